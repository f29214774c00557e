"""Reading replies typed in a hurry, and checking that the provider sent them."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from crisis.providers import twilio
from crisis.sms import Action, Parsed, clean_keywords, parse

BRANCH_WORDS = {"ok": ["oui", "sawa", "j'y vais"], "no": ["non", "hapana"], "arrived": ["arrivée"]}


@pytest.mark.parametrize(
    "text",
    [
        "OK 4821",
        "ok 4821",
        "ok4821",
        "OK4821",
        "4821 OK",
        '"OK 4821"',
        "'ok' 4821",
        "#4821 ok",
        "OK #4821",
        "  Ok   4821 ",
        "OK 4821.",
        "ok, 4821!",
        "1 4821",
        "4821 1",
        "Okay 4821",
        "OK 4821 on my way",
        "oui 4821",
        "Sawa 4821",
        "J'y vais 4821",
        "« oui » 4821",
        "១ ៤៨២១",
    ],
)
def test_a_going_reply_is_read_however_it_is_typed(text):
    assert parse(text, BRANCH_WORDS) == Parsed(Action.OK, "4821")


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("NO 4821", Action.NO),
        ("2 4821", Action.NO),
        ("hapana 4821", Action.NO),
        ("can't go 4821", Action.NO),
        ("ARRIVED 4821", Action.ARRIVED),
        ("3 4821", Action.ARRIVED),
        ("Arrivee 4821", Action.ARRIVED),
        ("arrivée 4821", Action.ARRIVED),
        ("DONE 4821", Action.DONE),
        ("4 4821", Action.DONE),
    ],
)
def test_each_answer_has_its_words_and_number(text, action):
    assert parse(text, BRANCH_WORDS) == Parsed(action, "4821")


def test_a_bare_word_has_no_code():
    assert parse("ok") == Parsed(Action.OK, None)
    assert parse("2") == Parsed(Action.NO, None)


@pytest.mark.parametrize("text", ["HELP", "help", "?", "Info"])
def test_help(text):
    assert parse(text).action == Action.HELP


def test_stop():
    assert parse("STOP").action == Action.STOP


@pytest.mark.parametrize(
    "text", ["4821", "hello 4821", "OK 4821 5133", "yes no", "", "5 4821", "ok " + "x" * 200]
)
def test_what_cannot_be_read_for_sure_is_not_guessed(text):
    assert parse(text, BRANCH_WORDS).action is None


def test_another_branchs_words_mean_nothing_here():
    assert parse("sawa 4821").action is None


def test_branch_words_are_checked():
    assert clean_keywords({"ok": "oui, Sawa", "no": "non"}) == {
        "ok": ["oui", "Sawa"],
        "no": ["non"],
    }
    for bad in ({"no": "ok"}, {"ok": "oui", "no": "oui"}, {"ok": "go4"}, {"done": "x" * 40}):
        with pytest.raises(ValueError):
            clean_keywords(bad)


# --- Twilio's signature, with the vectors of Twilio's own library tests -----------------

URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": ["CA1234567890ABCDE"],
    "Digits": ["1234"],
    "From": ["+14158675309"],
    "To": ["+18005551212"],
    "Caller": ["+14158675309"],
}


def test_twilio_signature_matches_twilios_reference():
    assert twilio.signature(URL, PARAMS, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    repeated = QueryDict("Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234")
    params = {key: repeated.getlist(key) for key in repeated}
    assert twilio.signature(URL, params, "12345") == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def test_twilio_signature_is_checked_with_or_without_the_port():
    assert twilio.verify(URL, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345")
    with_port = URL.replace(".com", ".com:1234")
    assert twilio.verify(with_port, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345")
    assert twilio.verify(URL, PARAMS, "kvajT1Ptam85bY51eRf/AJRuM3w=", "12345")  # :443


def test_a_forged_twilio_signature_is_refused():
    assert not twilio.verify(URL, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "54321")
    tampered = {**PARAMS, "Digits": ["9999"]}
    assert not twilio.verify(URL, tampered, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345")
    assert not twilio.verify(URL, PARAMS, "", "12345")
    assert not twilio.verify(URL, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "")
