"""The training side of the studio: a trainer callback that draws frames and obeys the page's controls.

It hooks into the trainer without editing it: at ``on_start`` it wraps the trainer's public ``train_step``
on that one trainer object, so before every step it can run the commands the page sent (in the training
thread, so nothing races the optimizer) and wait while paused, and after a step it draws a frame when
one is due. Frames are *sampled*: at most one every ``every`` steps and ``1 / max_fps`` seconds, and only
while the CPU time the training thread spent drawing and encoding frames stays under ``budget`` (5 %) of
the CPU time it spent in all, so the studio's own cost stays a small fraction of training however fast or
loaded the machine is (``benchmarks/studio_overhead.py`` measures it).

Controls (``submit``): ``play``, ``pause``, ``step`` (one full training step, then pause), ``d_step`` /
``g_step`` (one update of the discriminator / generator alone, outside the step count), ``set`` with
``lr`` (per phase), ``objective`` or ``n_critic``, and ``finish`` (end training after the next step: the
run is finished, evaluated and reported as if ``train.steps`` had been reached). Every change is written
into the next ``metrics.jsonl`` record under ``studio`` (``changes``: what changed at which step, and the
objective and n_critic in force), and the learning rates are in every record's ``lr`` as always. A
learning rate set live becomes the current rate; a decay schedule continues from it (its base rate is
rescaled).

A control that can no longer act is refused, never queued silently: once the last step has been trained
(``finish`` or ``train.steps`` reached) :meth:`StudioController.submit` raises :class:`ControlRefused`
(the server answers 409 with its reason, as it does for a run followed from another process). A stop
signal (Ctrl+C, SIGTERM) that arrives while paused ends the run at the step the page shows: the checkpoint
is written there and no step nobody asked for is trained first.
"""

from __future__ import annotations

import queue
import time
from typing import TYPE_CHECKING, Any

import torch

from ganforge.errors import GanforgeError
from ganforge.studio.frames import N_POINTS, FrameMaker, objective_label
from ganforge.studio.hub import EventHub
from ganforge.training.callbacks import Callback

if TYPE_CHECKING:
    from ganforge.training.trainer import Trainer

ACTIONS = ("play", "pause", "step", "d_step", "g_step", "set", "finish")


class ControlRefused(GanforgeError):
    """A well-formed control the run can no longer act on (its training has ended): answered 409, not 200,
    so the page says why nothing happened instead of the command waiting in a queue nobody reads."""

    http_status = 409


class StudioController(Callback):
    def __init__(
        self, hub: EventHub, every: int = 10, max_fps: float = 6.0, paused: bool = False, budget: float = 0.05
    ) -> None:
        self.hub = hub
        self.budget = budget
        self._cpu_start = time.thread_time()
        self._frame_cpu = 0.0
        self.every = max(1, int(every))
        self.min_interval = 1.0 / max_fps if max_fps > 0 else 0.0
        self.paused = paused
        self.commands: queue.Queue[dict[str, Any]] = queue.Queue()
        self.trainer: Trainer | None = None
        self.maker: FrameMaker | None = None
        self._last_frame = 0.0
        self._steps_left: int | None = None  # "step": run this many steps, then pause
        self._pending: list[dict[str, Any]] = []
        self._rate = (time.perf_counter(), 0)
        self.steps_per_s = 0.0
        self.finished = False
        self.frames = 0

    # --- what the page may ask ----------------------------------------------------------------------
    def capabilities(self) -> dict[str, bool]:
        from ganforge.gans.vanilla import GAN
        from ganforge.objectives import Objective

        gan = self.trainer.gan if self.trainer is not None else None
        phases = list(self.trainer.optimizers) if self.trainer is not None else []
        return {
            "single_steps": isinstance(gan, GAN),  # the generator phase of GAN can run without a D phase before it
            "objective": isinstance(getattr(gan, "objective", None), Objective),
            "n_critic": isinstance(getattr(gan, "n_critic", None), int) and "discriminator" in phases,
            "lr": True,
        }

    def validate(self, command: Any) -> dict[str, Any]:
        """A command from the page, checked (one-line :class:`GanforgeError` when wrong)."""
        from ganforge.objectives import OBJECTIVES

        if not isinstance(command, dict) or command.get("action") not in ACTIONS:
            raise GanforgeError(f"a control needs an 'action', one of {', '.join(ACTIONS)}")
        caps = self.capabilities()
        action = command["action"]
        if action in ("d_step", "g_step") and not caps["single_steps"]:
            raise GanforgeError("single D/G steps are available for generator/discriminator GANs only")
        if action != "set":
            return {"action": action}
        out: dict[str, Any] = {"action": "set"}
        if "lr" in command:
            lrs = command["lr"]
            phases = list(self.trainer.optimizers) if self.trainer is not None else []
            if not isinstance(lrs, dict) or not lrs:
                raise GanforgeError("'lr' must map phase names to learning rates, e.g. {\"generator\": 0.0002}")
            for phase, value in lrs.items():
                if phase not in phases:
                    raise GanforgeError(f"no optimizer phase '{phase}'; phases: {', '.join(phases)}")
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 10:
                    raise GanforgeError(f"learning rate of '{phase}' must be a number in (0, 10), got {value!r}")
            out["lr"] = {k: float(v) for k, v in lrs.items()}
        if "objective" in command:
            if not caps["objective"] or command["objective"] not in OBJECTIVES:
                raise GanforgeError(f"objective must be one of {', '.join(OBJECTIVES)} (models with one objective)")
            out["objective"] = command["objective"]
        if "n_critic" in command:
            k = command["n_critic"]
            if not caps["n_critic"] or isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 100:
                raise GanforgeError("n_critic must be an integer from 1 to 100 (GANs with a discriminator phase)")
            out["n_critic"] = k
        if len(out) == 1:
            raise GanforgeError("'set' needs 'lr', 'objective' or 'n_critic'")
        return out

    @property
    def training_over(self) -> bool:
        """Whether no training step will run again: the end-of-run hook ran, or the last step was trained
        (evaluation and the report may still be under way; a command queued now would never be read)."""
        trainer = self.trainer
        return self.finished or (trainer is not None and trainer.step >= trainer.train_cfg.steps)

    def submit(self, command: Any) -> None:
        """Queue a checked command for the training thread (called from the server's threads); refused with
        :class:`ControlRefused` once training is over, since nothing would ever run it."""
        checked = self.validate(command)
        if self.training_over:
            trainer = self.trainer
            where = f" at step {trainer.step}" if trainer is not None else ""
            raise ControlRefused(f"training has finished{where}: the run takes no more controls "
                                 f"('{checked['action']}' was not run)")
        self.commands.put(checked)

    # --- callback hooks -------------------------------------------------------------------------------
    def on_start(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self._cpu_start, self._frame_cpu = time.thread_time(), 0.0
        source = trainer.source
        view_n = 2000 if len(source.sample_shape) == 1 and source.sample_shape[0] > 2 else N_POINTS
        real = source.real(view_n, seed=2024).x if getattr(trainer.gan, "samples_from_noise", True) else None
        if real is not None:
            self.maker = FrameMaker(trainer.gan, source.scaler, source.kind, tuple(source.sample_shape), real,
                                    seed=trainer.config.seed, info=source.info)
        if self.maker is not None:
            init = self.maker.init_message()  # names the objective (objective_label) with the view
        else:  # no frames drawn (image-to-image): the objective is still shown
            init = {"view": "images", "objective": objective_label(trainer.gan)}
        init.update(mode="live", run=trainer.config.name, run_dir=str(trainer.run_dir or ""),
                    steps=trainer.train_cfg.steps, controls=self.capabilities(), phases=list(trainer.optimizers))
        from ganforge.objectives import OBJECTIVES

        init["objectives"] = list(OBJECTIVES)
        self.hub.publish("init", init)
        original = trainer.train_step

        def train_step(step: int, want_logs: bool) -> dict[str, torch.Tensor]:
            self._before_step()
            self._stop_if_signalled()
            logs = original(step, want_logs)
            self._after_step(step + 1)
            return logs

        trainer.train_step = train_step  # type: ignore[method-assign]  # this trainer only
        self._publish_frame(trainer.step)
        self._publish_status()

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> dict[str, Any] | None:
        if not self._pending:
            return None
        gan = trainer.gan
        extra: dict[str, Any] = {"changes": self._pending}
        if getattr(gan, "objective", None) is not None:
            extra["objective"] = gan.objective.name
        if hasattr(gan, "n_critic"):
            extra["n_critic"] = gan.n_critic
        self._pending = []
        return {"studio": extra}

    def on_end(self, trainer: Trainer) -> dict[str, Any] | None:
        self.finished = True
        self._publish_frame(trainer.step)
        self._publish_status()
        return None

    # --- around each step -----------------------------------------------------------------------------
    def _stopping(self) -> bool:
        trainer = self.trainer
        return trainer is not None and trainer.stop_signal is not None or self.hub.closed

    def _before_step(self) -> None:
        self._drain()
        announced = waited = False
        while self.paused and not self._stopping():
            waited = True
            if not announced:
                self._publish_status()
                announced = True
            try:
                command = self.commands.get(timeout=0.2)
            except queue.Empty:
                continue
            self._run(command)
            announced = False
        if waited and self.trainer is not None:  # the speed counts training time, not the time spent paused
            self._rate = (time.perf_counter(), self.trainer.step)

    def _stop_if_signalled(self) -> None:
        """End the run here, untrained, when a stop signal came while the studio held it (paused).

        The trainer looks at its stop signal only *after* a step, so leaving the pause loop on the signal
        and returning would train one more step that nobody asked for, and checkpoint that step instead
        of the one the page shows. So the checkpoint of the current step is written here and the run is
        interrupted exactly as the trainer interrupts it (same exception, same message). A state the
        divergence guard would not checkpoint is left to the trainer's own path (its roll-back)."""
        trainer = self.trainer
        if trainer is None or trainer.stop_signal is None or trainer.guard.state_blowup(trainer) is not None:
            return
        raise trainer.interrupted(trainer.save())

    def _after_step(self, step: int) -> None:
        if self._steps_left is not None:
            self._steps_left -= 1
            if self._steps_left <= 0:
                self._steps_left = None
                self.paused = True
                self._publish_frame(step)
                return
        now = time.perf_counter()
        if step % self.every == 0 and now - self._last_frame >= self.min_interval and self._within_budget():
            t0, s0 = self._rate
            if now > t0:
                self.steps_per_s = (step - s0) / (now - t0)
            self._rate = (now, step)
            self._publish_frame(step)
            self._publish_status()

    def _within_budget(self) -> bool:
        """Whether frames so far took at most ``budget`` of this (training) thread's CPU time."""
        return self._frame_cpu <= self.budget * (time.thread_time() - self._cpu_start)

    def _drain(self) -> None:
        while True:
            try:
                command = self.commands.get_nowait()
            except queue.Empty:
                return
            self._run(command)

    def _run(self, command: dict[str, Any]) -> None:
        trainer = self.trainer
        assert trainer is not None
        action = command["action"]
        if action == "play":
            self.paused, self._steps_left = False, None
        elif action == "pause":
            self.paused = True
            self._publish_frame(trainer.step)
        elif action == "step":
            self.paused, self._steps_left = False, 1
        elif action in ("d_step", "g_step"):
            self._single_update("discriminator" if action == "d_step" else "generator")
            self._pending.append({"step": trainer.step, "what": action})
            self._publish_frame(trainer.step)
        elif action == "set":
            self._apply_settings(command)
        elif action == "finish":  # end training after this step, as if train.steps were reached
            trainer.train_cfg.steps = trainer.step + 1
            self.paused, self._steps_left = False, None
            self._pending.append({"step": trainer.step, "what": "finish"})
        self._publish_status()

    # --- single updates and live settings --------------------------------------------------------------
    def _single_update(self, name: str) -> None:
        """One optimizer step of one phase of a :class:`~ganforge.gans.vanilla.GAN`, outside the step count."""
        from ganforge.gans.base import Phase, frozen

        trainer = self.trainer
        assert trainer is not None
        gan = trainer.gan
        phase = next(p for p in gan.phases(trainer.step) if p.name == name)
        opt = trainer.optimizers[name]
        bs = trainer.train_cfg.batch_size
        if name == "discriminator":
            batch = trainer.source.batch(bs, trainer.data_rng)
            # repeat 0 of 2: the fake batch's graph is not kept for a generator phase that will not follow
            loss, _ = gan.phase_loss(Phase(name, phase.networks, repeats=2), batch, 0)
        else:
            device = next(gan.parameters()).device
            z = gan.sample_latents(bs).to(device)
            y = gan.labels_for(bs, None, 0, device)
            fake = gan.generate(z, y)
            with frozen(gan.discriminator):
                loss = gan.objective.generator(gan.discriminate(fake, y))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        gan.after_update(phase)
        opt.zero_grad(set_to_none=True)

    def _apply_settings(self, command: dict[str, Any]) -> None:
        trainer = self.trainer
        assert trainer is not None
        gan = trainer.gan
        for phase, value in command.get("lr", {}).items():
            opt, sched = trainer.optimizers[phase], trainer.schedulers[phase]
            for i, group in enumerate(opt.param_groups):
                factor = group["lr"] / sched.base_lrs[i] if sched.base_lrs[i] > 0 else 1.0
                group["lr"] = value
                sched.base_lrs[i] = value / factor if factor > 0 else value
                if hasattr(sched, "_last_lr"):
                    sched._last_lr[i] = value
            self._pending.append({"step": trainer.step, "what": f"lr.{phase}", "value": value})
        if "objective" in command:
            from ganforge.objectives import get_objective

            gan.objective = get_objective(command["objective"])
            # the page (live or following the run later) draws D's outputs on the new scale from this step on
            self._pending.append({"step": trainer.step, "what": "objective", "value": command["objective"],
                                  "probability": bool(getattr(gan.objective, "probability_outputs", False))})
        if "n_critic" in command:
            gan.n_critic = int(command["n_critic"])
            self._pending.append({"step": trainer.step, "what": "n_critic", "value": gan.n_critic})
        if self.maker is not None:
            init = self.maker.init_message()
            self.hub.publish("settings", {"objective": init["objective"], "probability": init["probability"]})
        self._publish_frame(trainer.step)

    # --- publishing ---------------------------------------------------------------------------------------
    def _publish_frame(self, step: int) -> None:
        self._last_frame = time.perf_counter()
        if self.maker is None or self.maker.view in ("images", "none"):  # images: the snapshots are the view
            return
        cpu = time.thread_time()
        self.hub.publish("frame", self.maker.frame(step))
        self.frames += 1
        self._frame_cpu += time.thread_time() - cpu

    def _publish_status(self) -> None:
        trainer = self.trainer
        if trainer is None:
            return
        gan = trainer.gan
        self.hub.publish(
            "status",
            {
                "step": trainer.step,
                "steps": trainer.train_cfg.steps,
                "paused": self.paused and not self.finished,
                "finished": self.finished,
                "steps_per_s": round(self.steps_per_s, 1),
                "lr": {n: o.param_groups[0]["lr"] for n, o in trainer.optimizers.items()},
                "objective": objective_label(gan),
                "n_critic": getattr(gan, "n_critic", None),
                "mode": "live",
            },
        )

