"""The commit policies on scripted hypotheses: deterministic, with a simulated audio clock."""

import pytest

from engine.live.policy import AlignAtt, CtcPrefix, LocalAgreement, StableAlignAtt, make_policy, word_key
from engine.transcript import TimedText


def words(text: str, start: float = 0.0, step: float = 0.5) -> list[TimedText]:
    return [TimedText(w, start + i * step, start + (i + 1) * step) for i, w in enumerate(text.split())]


def test_word_key_ignores_case_and_punctuation_not_accents():
    assert word_key("¿Hola,") == word_key("hola") == "hola"
    assert word_key("está") != word_key("esta")
    assert word_key("año") != word_key("ano")


def test_local_agreement_commits_what_two_passes_share():
    policy = LocalAgreement(2)
    assert policy.commit(words("el perro"), 1.0) == 0  # one pass: nothing to agree with
    assert policy.commit(words("el perro come"), 1.5) == 2
    # The caller now passes only what follows the committed words.
    assert policy.commit(words("come carne", 1.0), 2.0) == 1  # "come" agreed with the last pass
    assert policy.commit(words("carne asada", 1.5), 2.5) == 1
    assert policy.commit(words("asado", 2.0), 3.0) == 0  # changed its mind: nothing new is final


def test_local_agreement_three_needs_three_passes():
    policy = LocalAgreement(3)
    assert policy.commit(words("uno dos"), 1.0) == 0
    assert policy.commit(words("uno dos tres"), 1.5) == 0
    assert policy.commit(words("uno dos tres cuatro"), 2.0) == 2
    assert policy.commit(words("tres cuatro"), 2.5) == 1


def test_local_agreement_compares_words_not_spelling_of_punctuation():
    policy = LocalAgreement(2)
    policy.commit(words("Hola, ¿qué tal"), 1.0)
    assert policy.commit(words("hola ¿Qué tal?"), 1.5) == 3


def test_alignatt_commits_only_words_ending_before_the_margin():
    policy = AlignAtt(margin=1.0)
    hyp = words("uno dos tres cuatro", step=0.5)  # ends 0.5, 1.0, 1.5, 2.0
    assert policy.commit(hyp, audio_end=2.0) == 2  # frontier 1.0
    assert policy.commit(hyp, audio_end=3.0) == 4
    assert policy.commit(hyp, audio_end=0.9) == 0
    # A word past the frontier stops the commit even when a later one is earlier (times out of order).
    odd = [TimedText("a", 0, 0.5), TimedText("b", 0.5, 2.5), TimedText("c", 0.6, 0.9)]
    assert policy.commit(odd, audio_end=2.0) == 1


def test_stable_alignatt_holds_back_a_word_this_pass_is_first_to_read():
    # The pass before left "diligencia." open at the frontier; this one reads "de licencia." with more audio:
    # AlignAtt alone commits the rewritten words at once, the stable rule waits for a pass that agrees.
    before = [TimedText("premio", 0.0, 0.4), TimedText("diligencia.", 0.4, 1.0)]
    now = [TimedText("premio", 0.0, 0.4), TimedText("de", 0.4, 0.5), TimedText("licencia.", 0.5, 1.0)]
    assert AlignAtt(0.8).commit(now, audio_end=1.8) == 3
    policy = StableAlignAtt(0.8)
    assert policy.commit(before, audio_end=1.2) == 0  # first pass: nothing to agree with
    assert policy.commit(now, audio_end=1.8) == 1  # "premio" agreed and is behind the frontier
    # The caller passes only the words after "premio"; the next pass reads them as this one did.
    again = [TimedText("de", 0.4, 0.5), TimedText("licencia.", 0.5, 1.0), TimedText("Pero", 1.9, 2.1)]
    assert policy.commit(again, audio_end=2.4) == 2  # agreed, and behind the frontier (1.6); "Pero" is not


def test_stable_alignatt_waits_for_the_frontier_even_when_passes_agree():
    policy = StableAlignAtt(margin=1.0)
    hyp = words("uno dos tres cuatro", step=0.5)  # ends 0.5, 1.0, 1.5, 2.0
    assert policy.commit(hyp, audio_end=2.0) == 0
    assert policy.commit(hyp, audio_end=2.0) == 2  # agreed on all four; the frontier (1.0) allows two
    assert policy.commit(hyp[2:], audio_end=3.0) == 2
    policy.reset()
    assert policy.commit(words("otra vez", start=8.0), audio_end=9.5) == 0  # after a reset: no pass to agree with


def test_stable_alignatt_commits_a_word_far_behind_the_frontier_even_when_passes_disagree():
    policy = StableAlignAtt(margin=0.8)
    assert policy.commit(words("fuera a insistir sobre"), audio_end=2.0) == 0  # nothing to agree with yet
    # Three words are behind the frontier (1.5), but the passes agree on "fuera" only.
    assert policy.commit(words("fuera insistir sobre tan"), audio_end=2.3) == 1
    # Slow passes that keep disagreeing ("a" heard, then not) would hold words back for ever; twice the margin
    # behind the audio's end (1.7 here) a word is final anyway: "a insistir" (ends 1.0, 1.5), not "sobre".
    assert policy.commit(words("a insistir sobre tan", start=0.5), audio_end=3.3) == 2


def test_ctc_prefix_commits_what_the_ctc_reading_confirms_before_the_margin():
    policy = CtcPrefix(margin=0.5)
    hyp = words("el señor Núñez", step=0.5)  # the attention decoder made up "el" from half an utterance
    assert policy.commit(hyp, 3.0, support=words("señor Núñez", step=0.5)) == 0
    hyp = words("señor Núñez dijo", step=0.5)  # ends 0.5, 1.0, 1.5
    ctc = words("señor núñez dijo", step=0.5)
    assert policy.commit(hyp, audio_end=1.6, support=ctc) == 2  # "dijo" ends past the frontier (1.1)
    assert policy.commit(hyp, audio_end=2.0, support=ctc) == 3
    assert policy.commit(hyp, audio_end=2.0, support=words("señor nuñez")) == 1  # an accent differs: stop
    # No CTC head: LocalAgreement-2 decides.
    fallback = CtcPrefix()
    assert fallback.commit(words("uno dos"), 1.0) == 0 and fallback.commit(words("uno dos tres"), 1.5) == 2


def test_make_policy_names_the_choices():
    assert isinstance(make_policy("alignatt", 0.5), AlignAtt)
    assert make_policy("agreement").n == 2
    assert make_policy("agreement-3").n == 3
    assert isinstance(make_policy("auto", family_default="agreement"), LocalAgreement)
    assert isinstance(make_policy("ctc"), CtcPrefix) and make_policy("ctc").needs_ctc
    assert isinstance(make_policy("auto"), AlignAtt)
    assert isinstance(make_policy("stable", 0.5), StableAlignAtt) and make_policy("stable", 0.5).margin == 0.5
    with pytest.raises(ValueError, match="auto, alignatt, stable, agreement"):
        make_policy("greedy")
    with pytest.raises(ValueError):
        make_policy("agreement-1")
    with pytest.raises(ValueError):
        AlignAtt(float("nan"))
