"""The intent classifier: trilingual, calibrated, and honest about what it does not know."""

from __future__ import annotations

import pytest

from omnidesk.nlu.classifier import IntentClassifier, TrainingError, pick_threshold


@pytest.mark.parametrize(("text", "label"), [
    ("my card payment was declined again", "payment_failed"),
    ("支付一直失败", "payment_failed"),
    ("支付一直失敗", "payment_failed"),        # traditional characters, simplified training
    ("家裡寬頻斷網了", "broadband_down"),       # Taiwan wording (寬頻) for 宽带
    ("the internet at home stopped working", "broadband_down"),
    ("我想取消合約", "cancel_contract"),
    ("please send the invoice for my company", "invoice"),
    ("去日本要開通漫遊嗎", "roaming"),
    ("upgrade to a plan with more data", "change_plan"),
])
def test_recognises_paraphrases_in_three_scripts(model: IntentClassifier, text: str,
                                                 label: str) -> None:
    prediction = model.predict(text)
    assert prediction.ranking[0][0] == label, prediction


@pytest.mark.parametrize("text", [
    "what is the capital of France", "明天会下雨吗", "我家的猫不吃饭",
    "recommend a good pizza place",
])
def test_says_it_does_not_know(model: IntentClassifier, text: str) -> None:
    prediction = model.predict(text)
    assert prediction.label is None and not prediction.in_scope
    assert prediction.confidence < model.threshold


def test_confident_answers_carry_a_label_above_the_threshold(model: IntentClassifier) -> None:
    prediction = model.predict("为什么我的支付失败了")
    assert prediction.in_scope and prediction.label == "payment_failed"
    assert prediction.confidence >= model.threshold
    probabilities = [p for _, p in prediction.ranking]
    assert probabilities == sorted(probabilities, reverse=True)
    assert 0.0 < sum(probabilities) <= 1.0001


def test_round_trip_through_bytes(model: IntentClassifier) -> None:
    copy = IntentClassifier.from_bytes(model.to_bytes())
    assert copy.labels == model.labels and copy.threshold == model.threshold
    for text in ("宽带断网了", "cancel my plan", "hello there"):
        assert copy.predict(text) == model.predict(text)


def test_refuses_what_is_not_a_model() -> None:
    with pytest.raises(ValueError, match="not an omnidesk intent model"):
        IntentClassifier.from_bytes(b"\x80\x04 something else")


def test_needs_two_intents() -> None:
    with pytest.raises(TrainingError, match="two intents"):
        IntentClassifier.train(["a", "b", "c"], ["x", "x", "x"])
    with pytest.raises(TrainingError, match="differ in length"):
        IntentClassifier.train(["a", "b"], ["x"])


def test_out_of_scope_examples_are_not_learned_as_an_intent(
        trilingual: tuple[list[str], list[str]]) -> None:
    texts, labels = trilingual
    extra = ["tell me a joke", "讲个笑话", "who won the football match", "今天吃什么好"]
    model = IntentClassifier.train(texts + extra, labels + ["OOS"] * len(extra), oos_label="OOS")
    assert "OOS" not in model.labels
    assert model.metrics["oos_examples"] == len(extra)


def test_a_higher_target_precision_never_lowers_the_threshold(
        trilingual: tuple[list[str], list[str]]) -> None:
    texts, labels = trilingual
    loose = IntentClassifier.train(texts, labels, target_precision=0.7)
    strict = IntentClassifier.train(texts, labels, target_precision=0.99)
    assert strict.threshold >= loose.threshold


def test_threshold_is_the_lowest_meeting_the_target() -> None:
    import numpy as np

    conf = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5])
    ok = np.array([True, True, True, False, True, False])
    threshold, precision, coverage = pick_threshold(conf, ok, 0.8)
    assert threshold == 0.6 and precision == 0.8 and coverage == 5 / 6
    threshold, precision, _ = pick_threshold(conf, ok, 1.0)
    assert threshold == 0.8 and precision == 1.0


def test_fast_features_equal_the_vectorisers(model: IntentClassifier) -> None:
    """The prediction path applies the fitted vocabularies itself; it must give exactly
    what scikit-learn's transform gives."""
    import numpy as np
    from scipy import sparse

    from omnidesk.nlu.classifier import _clean

    core = model._core
    texts = [_clean(t) for t in ("支付失敗了怎麼辦", "my broadband is down again", "", "?!",
                                 "宽带 broadband 寬頻 ok", "")]
    fast = core.lexical_features(texts)
    slow = sparse.hstack([core.chars.transform(texts), core.words.transform(texts)],
                         format="csr")
    assert fast.shape == slow.shape
    assert np.allclose(fast.toarray(), slow.toarray(), atol=1e-6)
    x = core.features(fast, core.vectors(texts))
    assert np.allclose(x @ core.svm.coef_.T + core.svm.intercept_,
                       core.svm.decision_function(x), atol=1e-6)
    offset = len(core.chars.vocabulary_)
    assert np.allclose(core._word_block(fast).toarray(), fast.toarray()[:, offset:])
