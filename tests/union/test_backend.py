"""The signed-in user comes with their member and branch, in one query."""

from __future__ import annotations

from union.backends import MemberBackend


def test_the_user_comes_with_the_member_and_branch(member, django_assert_num_queries):
    with django_assert_num_queries(1):
        user = MemberBackend().get_user(member.user_id)
        assert user.member.branch.name == member.branch.name


def test_a_deactivated_account_is_not_signed_in(member):
    member.user.is_active = False
    member.user.save(update_fields=["is_active"])
    assert MemberBackend().get_user(member.user_id) is None
    assert MemberBackend().get_user(10**9) is None
