"""stopwise.optuna.Pruner under Debian's python3-optuna: every trial of a
study is pruned exactly where replay (stopwise.replay, and `stopwise replay`
on the same values written as CSV) stops its curve of intermediate values,
and a trial the policy never stops completes."""

import os
import unittest

import optuna

import support
import stopwise
import stopwise.optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

TOKENS_PER_STEP = 1000


def objective(metric):
    """An objective reporting a synthetic curve chosen by the trial (one
    evaluation per step), pruned when the study's pruner says so."""

    def run(trial):
        seed = trial.suggest_int("seed", 1, 40)
        rows = support.synthetic_rows(seed, n=80)
        value = None
        for row in rows:
            value = row[metric]
            trial.report(value, row["step"])
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    return run


class PrunerEqualsReplay(unittest.TestCase):
    def study(self, policy, direction, metric, budget=0, n_trials=16):
        pruner = stopwise.optuna.Pruner(policy, tokens_per_step=TOKENS_PER_STEP, budget=budget)
        study = optuna.create_study(direction=direction, pruner=pruner,
                                    sampler=optuna.samplers.RandomSampler(seed=3))
        study.optimize(objective(metric), n_trials=n_trials)
        return study, pruner

    def check(self, policy, direction="maximize", metric="val_em", budget=0, replay_policy=None,
              expect_pruned=True):
        """Runs a study pruned by `policy` and checks every trial against the
        replay of its whole curve under replay_policy (default: the same)."""
        replay_policy = replay_policy or policy
        study, pruner = self.study(policy, direction, metric, budget)
        d = support.tmpdir(self)
        pruned = completed = 0
        name = stopwise.Policy(policy).monitor
        for t in study.trials:
            steps = sorted(t.intermediate_values)
            # the whole curve the trial would have reported, replayed by the C library
            full = support.synthetic_rows(t.params["seed"], n=80)
            rows = [{"tokens": r["step"] * TOKENS_PER_STEP, "step": r["step"], name: r[metric]} for r in full]
            r = stopwise.replay(replay_policy, rows)
            path = os.path.join(d, "trial-%d.csv" % t.number)
            stopwise.Curve(rows).write_csv(path)
            cli = support.cli_json("replay", "--policy", replay_policy, "--curve", path)
            self.assertEqual((cli["stopped"], cli["stop_index"]), (r.stopped, r.stop_index))
            with self.subTest(trial=t.number):
                self.assertEqual([v for _, v in sorted(t.intermediate_values.items())],
                                 [row[name] for row in rows[: len(steps)]])
                if r.stopped:
                    self.assertEqual(t.state, optuna.trial.TrialState.PRUNED)
                    self.assertEqual(steps[-1], full[r.stop_index]["step"], "pruned at another step than replay's")
                    self.assertEqual(pruner.reasons[t.number], r.reason)
                    pruned += 1
                else:
                    self.assertEqual(t.state, optuna.trial.TrialState.COMPLETE)
                    self.assertEqual(len(steps), len(full))
                    completed += 1
        if expect_pruned:
            self.assertGreater(pruned, 0)
        return pruned, completed

    def test_patience(self):
        self.check("patience=5:min_delta=0.1,diverge")

    def test_gain_with_warmup(self):
        self.check("gain=0.5:window=5,warmup=10k")

    def test_a_loss_in_a_minimized_study(self):
        self.check("patience=4,monitor=val_loss", direction="minimize", metric="val_loss")

    def test_gl_on_the_monitored_loss(self):
        self.check("gl=1,monitor=val_loss", direction="minimize", metric="val_loss")

    def test_extrapolate(self):
        self.check("extrapolate=0.5:at=80k,diverge")

    def test_the_pruners_budget_is_extrapolates_horizon(self):
        self.check("extrapolate=0.5,diverge", budget=80 * TOKENS_PER_STEP, replay_policy="extrapolate=0.5:at=80k,diverge")

    def test_a_policy_that_never_fires_completes_every_trial(self):
        pruned, completed = self.check("patience=1000", expect_pruned=False)
        self.assertEqual((pruned, completed), (0, 16))


class Misuse(unittest.TestCase):
    def test_direction_must_match_the_mode(self):
        study = optuna.create_study(direction="minimize", pruner=stopwise.optuna.Pruner("patience=3"))
        with self.assertRaises(stopwise.StopwiseError) as cm:
            study.optimize(objective("val_em"), n_trials=1)
        self.assertIn("monitor=val_em:min", str(cm.exception))

    def test_rules_needing_other_metrics_are_refused(self):
        with self.assertRaises(stopwise.StopwiseError) as cm:
            stopwise.optuna.Pruner("pq=0.5")
        self.assertIn("needs val_loss", str(cm.exception))
        with self.assertRaises(stopwise.StopwiseError):
            stopwise.optuna.Pruner("extrapolate=0.5")  # no horizon: fails now, not in a trial
        with self.assertRaises(ValueError):
            stopwise.optuna.Pruner("patience=3", tokens_per_step=0)


if __name__ == "__main__":
    support.main()
