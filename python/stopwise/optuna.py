"""An Optuna pruner that stops each trial by a stopwise policy.

    import optuna, stopwise.optuna
    study = optuna.create_study(direction="maximize",
                                pruner=stopwise.optuna.Pruner("patience=5,diverge", tokens_per_step=50_000))
    # in the objective: trial.report(val_em, step); if trial.should_prune(): raise optuna.TrialPruned()

Each trial is judged on its own curve, the way a Controller would stop it
(not against its peers, as Optuna's median pruner does): its intermediate
values, in step order, are the policy's monitored metric at tokens = step x
tokens_per_step, and the trial is pruned once the policy says stop — exactly
where stopwise.replay (and `stopwise replay`) would stop the same curve.
Needs Optuna (Debian: python3-optuna); importing stopwise alone does not.
"""

import math

import optuna

from .controller import Controller
from .errors import StopwiseError
from .policy import as_policy

_KEEP = 256  # trials whose controllers are kept for incremental feeding


class Pruner(optuna.pruners.BasePruner):
    """Prunes a trial where `policy` stops its curve of intermediate values.

    policy           a Policy or its text; its monitored metric is the trial's
                     value, so its mode must match the study's direction
                     (monitor=val_loss or any *loss is min; the default val_em
                     is max)
    tokens_per_step  tokens per Optuna step (default 1: steps are tokens)
    budget           tokens per trial, the horizon extrapolate predicts at
                     (unless the policy has budget= or at=)

    The rules may read only the monitored metric: a trial reports one value
    per step, so gl, pq and up (which read the losses) need monitor=val_loss
    and pq cannot be used. `reasons` maps a pruned trial's number to the
    policy's reason, in this process.
    """

    def __init__(self, policy, *, tokens_per_step=1, budget=0):
        self.policy = as_policy(policy)
        if not isinstance(tokens_per_step, int) or tokens_per_step < 1:
            raise ValueError("tokens_per_step must be a whole number >= 1, got %r" % (tokens_per_step,))
        self.tokens_per_step = tokens_per_step
        self.budget = budget
        monitor = self.policy.monitor
        for metric in ("val_loss", "train_loss"):
            if metric != monitor and self.policy.needs(metric):
                raise StopwiseError(
                    "policy %s needs %s at every evaluation, but an Optuna trial reports one value per step "
                    "(fed as the monitored %s)" % (self.policy, metric, monitor))
        Controller(self.policy, budget)  # fails now, not in the first trial, if the policy cannot run
        self.reasons = {}
        self._fed = {}  # trial id -> (controller, steps fed, values fed, stopped)

    def prune(self, study, trial):
        want = "max" if study.direction == optuna.study.StudyDirection.MAXIMIZE else "min"
        if self.policy.mode != want:
            raise StopwiseError(
                "policy %s monitors %s (%s), but study %r is to %simize: write monitor=%s:%s in the policy"
                % (self.policy, self.policy.monitor, self.policy.mode, study.study_name, want,
                   self.policy.monitor, want))
        steps = sorted(trial.intermediate_values)
        if not steps:
            return False
        values = [trial.intermediate_values[s] for s in steps]
        ctl, fed_steps, fed_values, stopped = self._state(trial._trial_id, steps, values)
        name = self.policy.monitor
        for step, value in zip(steps[len(fed_steps):], values[len(fed_values):]):
            if stopped:
                break
            d = ctl.report(step * self.tokens_per_step, step=step, **{name: _as_float(value)})
            fed_steps.append(step)
            fed_values.append(value)
            if d.stop:
                stopped = True
                self.reasons[trial.number] = d.reason
        self._fed[trial._trial_id] = (ctl, fed_steps, fed_values, stopped)
        while len(self._fed) > _KEEP:
            self._fed.pop(next(iter(self._fed)))
        return stopped

    def _state(self, trial_id, steps, values):
        """The trial's controller, if what it was fed is a prefix of the
        trial's values now (the usual case: one new step per call); else a
        fresh one, so the answer never depends on what this process saw."""
        kept = self._fed.pop(trial_id, None)
        if kept is not None:
            ctl, fed_steps, fed_values, stopped = kept
            n = len(fed_steps)
            if fed_steps == steps[:n] and _same(fed_values, values[:n]):
                return kept
        return Controller(self.policy, self.budget), [], [], False


def _as_float(v):
    return float("nan") if v is None else float(v)


def _same(a, b):
    return all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b))


__all__ = ["Pruner"]
