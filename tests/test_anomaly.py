"""The anomaly benchmark's protocol (Zenati et al. 2018, as Kumar et al. 2019 ran it) and its model-free baseline."""
import pytest
import torch

from course_lib import anomaly
from course_lib.evaluation import pr_auc


def _digits(n_per_class=50):
    labels = torch.arange(10).repeat_interleave(n_per_class)
    images = torch.zeros(len(labels), 1, 28, 28)
    images[:, 0, 0, :] = labels[:, None].float() / 10          # each image knows its label (and how much ink it has)
    images[:, 0, 1, 0] = torch.arange(len(labels)).float() / len(labels)   # and which image it is
    return images, labels


def test_zenati_split_trains_on_80_percent_of_the_normal_digits_and_tests_on_the_rest_plus_every_anomaly():
    images, labels = _digits()
    s = anomaly.zenati_split(images, labels, digit=4)
    assert len(s.train) == int(0.8 * 450) and len(s.test) == 450 - 360 + 50
    assert int(s.is_anomaly.sum()) == 50 and s.anomaly_rate == pytest.approx(50 / 140)
    label_of = lambda x: (x[:, 0, 0, 0] * 10).round().long()  # noqa: E731
    assert not (label_of(s.train) == 4).any()                              # no anomaly trains
    assert torch.equal(label_of(s.test) == 4, s.is_anomaly.bool())         # the labels say which test image is anomalous
    ids = lambda x: set((x[:, 0, 1, 0] * len(labels)).round().long().tolist())  # noqa: E731
    assert not ids(s.train) & ids(s.test) and len(ids(s.train) | ids(s.test)) == 500   # disjoint, and nothing left out
    again = anomaly.zenati_split(images, labels, digit=4)
    assert torch.equal(again.test, s.test)                                  # seeded: the same split every time
    assert not torch.equal(anomaly.zenati_split(images, labels, digit=4, seed=1).test, s.test)


@pytest.mark.parametrize("digit", [-1, 10, 2.0, True, "1"])
def test_an_anomaly_digit_outside_0_to_9_is_refused(digit):
    images, labels = _digits(5)
    with pytest.raises(ValueError, match="from 0 to 9"):
        anomaly.zenati_split(images, labels, digit)


def test_ink_score_finds_a_digit_with_unusual_ink_and_auprc_reads_it():
    images, labels = _digits()
    s = anomaly.zenati_split(images, labels, digit=9)                       # the most ink in this fixture
    score = anomaly.ink_score(s)
    assert pr_auc(score, s.is_anomaly) == pytest.approx(1.0)                # every 9 has more ink than any other digit
    s0 = anomaly.zenati_split(images, labels, digit=0)
    assert pr_auc(-anomaly.ink_score(s0), s0.is_anomaly) < s0.anomaly_rate  # the wrong sign ranks anomalies last


def test_bad_anomaly_settings_are_refused():
    with pytest.raises(ValueError, match="steps"):
        anomaly.AnomalyConfig(steps=0)
    with pytest.raises(ValueError, match="lam"):
        anomaly.AnomalyConfig(lam=-1.0)
    assert set(anomaly.PUBLISHED_AUPRC) == set(anomaly.DIGITS)
