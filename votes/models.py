"""Votes, their options, the frozen roll, voted marks, secret ballots and paper tallies.

Written only through votes.services.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from union.models import Branch, Member, Role


class VoteKind(models.TextChoices):
    MOTION = "motion", _("Motion (for, against, abstain)")
    SINGLE = "single", _("Single choice")
    APPROVAL = "approval", _("Approval (choose any number)")
    ELECTION = "election", _("Election (ranked, single transferable vote)")


class Threshold(models.TextChoices):
    SIMPLE = "simple", _("Simple majority")
    TWO_THIRDS = "two_thirds", _("Two thirds")


class VoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    OPEN = "open", _("Open")
    TELLERS = "tellers", _("Closed, waiting for the tellers' key sheets")
    COUNTING = "counting", _("Closed, being counted")
    HELD = "held", _("Closed, result held back")
    PUBLISHED = "published", _("Result published")
    CANCELLED = "cancelled", _("Cancelled")


class BallotChannel(models.TextChoices):
    ONLINE = "online", _("Online")
    ASSISTED = "assisted", _("At an assembly, on an officer's device")
    PAPER = "paper", _("Paper ballot at an assembly")


class Vote(models.Model):
    """One decision put to the members of a branch, or to all members (national branch)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=VoteKind.choices)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"), blank=True)
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="votes", verbose_name=_("who votes")
    )
    seats = models.PositiveSmallIntegerField(_("seats to fill"), default=1)
    threshold = models.CharField(
        _("threshold"), max_length=10, choices=Threshold.choices, blank=True
    )
    quorum_percent = models.PositiveSmallIntegerField(
        _("quorum (% of eligible members)"), default=0
    )
    opens_at = models.DateTimeField(_("opens"))
    closes_at = models.DateTimeField(_("closes"))
    status = models.CharField(max_length=10, choices=VoteStatus.choices, default=VoteStatus.DRAFT)
    eligible_count = models.PositiveIntegerField(null=True, editable=False)  # frozen at opening
    # The officer who runs the vote: alerted if the count does not add up, confirms roles.
    returning_officer = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("returning officer")
    )
    # Elections only: the role the elected will hold, and for how long.
    role = models.CharField(
        _("role of the elected"), max_length=24, choices=Role.choices, blank=True
    )
    term_starts_on = models.DateField(_("term starts"), null=True, blank=True)
    term_ends_on = models.DateField(_("term ends"), null=True, blank=True)
    result = models.JSONField(null=True, editable=False)
    # What did not add up when the count was held back: codes and figures, no content and
    # no sentence (votes.results.count_problems; describe_problem words them for the reader).
    held_problems = models.JSONField(default=list, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    counted_at = models.DateTimeField(null=True, blank=True)
    roles_confirmed_at = models.DateTimeField(null=True, blank=True)
    # The secret ballot (votes.sealing). k of the tellers' key sheets open the ballot box.
    shares_needed = models.PositiveSmallIntegerField(_("key sheets needed at the count"), default=2)
    # Made when the vote opens: the X25519 public key ballots are sealed to (its private key
    # exists only as the tellers' shares) and the salt of the receipts' slow hash. Null on a
    # vote opened before ballots were sealed: its ballots were stored as cast.
    public_key = models.BinaryField(max_length=32, null=True, editable=False)
    receipt_salt = models.BinaryField(max_length=16, null=True, editable=False)
    unsealed_at = models.DateTimeField(null=True, blank=True)  # the tellers opened the box

    class Meta:
        ordering = ["-opens_at", "-id"]
        indexes = [models.Index(fields=["status", "closes_at"], name="vote_status_close")]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="vote_closes_after_opening"
            ),
            models.CheckConstraint(
                condition=Q(quorum_percent__lte=100), name="vote_quorum_percent"
            ),
            models.CheckConstraint(condition=Q(seats__gte=1), name="vote_seats_positive"),
            models.CheckConstraint(
                condition=Q(shares_needed__gte=2, shares_needed__lte=9),
                name="vote_shares_needed_2_to_9",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_sealed(self) -> bool:
        """Ballots are sealed to the vote's key when cast (every vote opened since)."""
        return self.public_key is not None

    @property
    def is_ranked(self) -> bool:
        return self.kind == VoteKind.ELECTION

    @property
    def method(self) -> str:
        if self.kind != VoteKind.ELECTION:
            return self.kind
        return "irv" if self.seats == 1 else "scottish-stv"

    @property
    def lot_seed(self) -> str:
        """The seed of the drawing of lots, also the title of the BLT download."""
        return f"{self.title} [{self.public_id}]"


class VoteOption(models.Model):
    """A candidate, or a choice; motions get For (1), Against (2), Abstain (3)."""

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="options")
    number = models.PositiveSmallIntegerField()  # 1..n, the BLT candidate number
    label = models.CharField(_("name or choice"), max_length=100)
    statement = models.TextField(_("short statement"), blank=True, max_length=1000)
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["vote", "number"]
        constraints = [
            models.UniqueConstraint(fields=["vote", "number"], name="vote_option_number"),
        ]

    def __str__(self) -> str:
        return self.label


class Teller(models.Model):
    """A member who holds one of a vote's key sheets. She prints it herself before the vote
    opens (the server keeps only its public key); at opening her share of the vote's key is
    sealed to it. k of the vote's tellers, together at the count, open the ballot box."""

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="tellers")
    number = models.PositiveSmallIntegerField()  # printed on her sheet; her share's number
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    public_key = models.BinaryField(max_length=32, null=True, editable=False)
    sheet_made_at = models.DateTimeField(null=True, blank=True)
    # She typed her sheet's words back: she has it, and can read it.
    confirmed_at = models.DateTimeField(null=True, blank=True)
    sealed_share = models.BinaryField(null=True, editable=False)  # from opening

    class Meta:
        ordering = ["vote", "number"]
        constraints = [
            models.UniqueConstraint(fields=["vote", "number"], name="teller_number_once"),
            models.UniqueConstraint(fields=["vote", "member"], name="teller_once_per_vote"),
            models.CheckConstraint(
                condition=Q(number__gte=1, number__lte=9), name="teller_number_1_to_9"
            ),
        ]

    def __str__(self) -> str:
        return f"teller {self.vote_id}:{self.number}"


class VoteRoll(models.Model):
    """The members eligible in a vote, frozen when it opens."""

    vote = models.ForeignKey(Vote, on_delete=models.CASCADE, related_name="roll")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["vote", "member"], name="vote_roll_once")]

    def __str__(self) -> str:
        return f"roll {self.vote_id}:{self.member_id}"


class VoteMark(models.Model):
    """That a member voted, how and when. Never what. One per member and vote:
    this constraint is what turns double taps, second devices and replays into one ballot."""

    vote = models.ForeignKey(Vote, on_delete=models.PROTECT, related_name="marks")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=8, choices=BallotChannel.choices)
    # Where an assisted or paper ballot was given out (paper tallies are per branch).
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vote", "member"], name="one_mark_per_member")
        ]
        indexes = [models.Index(fields=["vote", "channel", "branch"], name="vote_mark_channel")]

    def __str__(self) -> str:
        return f"mark {self.vote_id}:{self.member_id}"


class SealedBallot(models.Model):
    """A ballot as cast, sealed to the vote's public key: nobody can read it until k
    tellers open the box at the count, when it is replaced by a Ballot. Every sealed
    ballot of a vote has the same length. No member, no time, a random key.
    lookup: an HMAC of the receipt's slow hash (votes.receipts), to find it by receipt.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    vote = models.ForeignKey(Vote, on_delete=models.PROTECT, related_name="sealed_ballots")
    sealed = models.BinaryField()
    lookup = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return f"sealed ballot {self.lookup[:8]}"


class Ballot(models.Model):
    """What one voter chose, and nothing else.

    No member, no time, no address, no session, no officer, and a random UUID key rather
    than a sequence that would follow the order of the voted marks. Not in any history or
    audit table. Sealed votes: written at the count, all at once and in random order, from
    the opened sealed ballots; receipt_hash is the receipt's counted hash, which travelled
    inside the sealed ballot (votes.receipts). Votes opened before: written when cast, with
    the SHA-256 of the receipt code.
    choices: option numbers; ranked in order for elections, sorted for approval.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed by the constraint below, which starts with the vote.
    vote = models.ForeignKey(Vote, on_delete=models.PROTECT, related_name="ballots", db_index=False)
    choices = models.JSONField()
    receipt_hash = models.CharField(max_length=64)

    class Meta:
        # One index for both the rule (a receipt finds one ballot of its vote) and the
        # lookups (a vote's ballots; a receipt in a vote): every index is written for each
        # of the 100,000 ballots an opened box inserts at once.
        constraints = [
            models.UniqueConstraint(fields=["vote", "receipt_hash"], name="ballot_vote_receipt")
        ]

    def __str__(self) -> str:
        return f"ballot {self.receipt_hash[:8]}"


class TallyEntry(models.Model):
    """One officer's count of a branch's paper ballots. Two that agree make a BranchTally.

    counts: motions, single choice, approval: {"<option number>": marks}; elections: a list
    of [ballots, [ranking...]] pairs, as BLT lines.
    """

    vote = models.ForeignKey(Vote, on_delete=models.PROTECT, related_name="tally_entries")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ballots = models.PositiveIntegerField()  # valid paper ballots counted
    counts = models.JSONField()
    entered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["vote", "branch", "officer"], name="one_tally_entry_per_officer"
            ),
        ]

    def __str__(self) -> str:
        return f"tally entry {self.vote_id}:{self.branch_id}"


class BranchTally(models.Model):
    """The confirmed paper count of one branch: it joins the result."""

    vote = models.ForeignKey(Vote, on_delete=models.PROTECT, related_name="tallies")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    ballots = models.PositiveIntegerField()
    counts = models.JSONField()
    confirmed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vote", "branch"], name="one_tally_per_branch")
        ]

    def __str__(self) -> str:
        return f"tally {self.vote_id}:{self.branch_id}"
