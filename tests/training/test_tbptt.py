"""Truncated BPTT(k1, k2): the windows, and the Trainer against an explicit computation."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from models import NextTokenObjective, TinyLM, delay_copy_data, tiny_trainer
from rnnkit.seeding import seed_everything
from rnnkit.training import TrainerConfig, plan_windows


@pytest.mark.parametrize("num_steps", [1, 2, 5, 7, 12])
@pytest.mark.parametrize(("k1", "k2"), [(1, 1), (2, 2), (2, 3), (2, 5), (3, 4), (4, 9)])
def test_windows_score_every_step_once_and_look_back_at_most_k2(
    num_steps: int, k1: int, k2: int
) -> None:
    windows = plan_windows(num_steps, k1, k2)
    scored = [t for w in windows for t in range(w.start + w.loss_from, w.stop)]
    assert scored == list(range(num_steps))  # each step scored exactly once, in order
    for j, window in enumerate(windows):
        assert window.stop - window.start <= k2  # backprop through at most k2 steps
        assert 0 < window.stop - (window.start + window.loss_from) <= k1  # ≤ k1 new outputs
        assert window.start == max(0, window.stop - k2)
        following = windows[j + 1].start if j + 1 < len(windows) else num_steps
        assert window.carry == following
        assert window.start <= window.carry <= window.stop


def _explicit_tbptt(model, batches, k1: int, k2: int, lr: float) -> list[float]:
    """BPTT(k1, k2) written out: re-run each window from the saved state, plain SGD."""
    params = list(model.parameters())
    losses = []
    for inputs, targets in batches:
        T = inputs.shape[1]
        stops = [*range(k1, T, k1), T]
        saved = None  # h at the start of the window; every batch starts afresh
        for j, stop in enumerate(stops):
            start = max(0, stop - k2)
            scored_from = stops[j - 1] if j else 0
            logits, _ = model(inputs[:, start:stop], saved)
            loss = F.cross_entropy(
                logits[:, scored_from - start :].reshape(-1, logits.shape[-1]),
                targets[:, scored_from:stop].reshape(-1),
                ignore_index=-100,
            )
            grads = torch.autograd.grad(loss, params)
            losses.append(float(loss.detach()))
            if j + 1 < len(stops):
                next_start = max(0, stops[j + 1] - k2)
                if next_start > start:
                    with torch.no_grad():
                        _, saved = model(inputs[:, start:next_start], saved)
                    saved = tuple(s.detach() for s in saved)
            with torch.no_grad():
                for param, grad in zip(params, grads, strict=True):
                    param -= lr * grad
    return losses


@pytest.mark.parametrize(("k1", "k2"), [(3, 3), (2, 5), (3, 4)])
def test_trainer_equals_explicit_truncated_bptt(float64: torch.dtype, k1: int, k2: int) -> None:
    data = delay_copy_data(8, 7, 8, seed=3)
    config = TrainerConfig(
        optimizer="sgd", momentum=0.0, lr=0.5, clip_norm=None, tbptt_k1=k1, tbptt_k2=k2,
        max_steps=2 * len(plan_windows(7, k1, k2)), log_every=1, device="cpu", quiet=True,
    )  # fmt: skip
    trainer, rows = tiny_trainer(config, seed=5, data=data, batch_size=4, shuffle=False)
    trainer.fit()

    seed_everything(5)
    reference = TinyLM()
    batches = [(data[0][:4], data[1][:4]), (data[0][4:], data[1][4:])]
    expected = _explicit_tbptt(reference, batches, k1, k2, lr=0.5)
    assert [row["loss"] for row in rows] == pytest.approx(expected, abs=1e-12)
    for mine, theirs in zip(trainer.model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=0, atol=1e-12)


def test_k2_changes_the_gradient_and_k1_equal_k2_is_plain_detaching(float64: torch.dtype) -> None:
    data = delay_copy_data(4, 9, 8, seed=4)

    def losses(k1: int, k2: int | None) -> list[float]:
        config = TrainerConfig(
            optimizer="sgd", momentum=0.0, lr=0.5, clip_norm=None, tbptt_k1=k1, tbptt_k2=k2,
            max_steps=3, log_every=1, device="cpu", quiet=True,
        )  # fmt: skip
        trainer, rows = tiny_trainer(config, seed=1, data=data, batch_size=4, shuffle=False)
        trainer.fit()
        return [row["loss"] for row in rows]

    assert losses(3, None) == losses(3, 3)
    assert losses(3, 6)[0] == losses(3, 3)[0]  # first window: nothing earlier to look back on
    assert losses(3, 6)[1:] != losses(3, 3)[1:]


def test_stateful_objective_carries_state_across_batches(float64: torch.dtype) -> None:
    data = delay_copy_data(8, 6, 8, seed=2)
    config = TrainerConfig(
        optimizer="sgd", momentum=0.0, lr=0.3, clip_norm=None, tbptt_k1=3, max_steps=4,
        device="cpu", quiet=True,
    )  # fmt: skip
    stateless, _ = tiny_trainer(config, seed=1, data=data, batch_size=4, shuffle=False)
    stateful, _ = tiny_trainer(
        config, seed=1, data=data, batch_size=4, shuffle=False,
        objective=NextTokenObjective(carry_state=True),
    )  # fmt: skip
    stateless.fit()
    stateful.fit()
    assert stateful.carried is not None
    different = [
        not torch.equal(a, b)
        for a, b in zip(stateless.model.parameters(), stateful.model.parameters(), strict=True)
    ]
    assert any(different)  # batch 2 started from batch 1's state in the stateful run
