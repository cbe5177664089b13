"""``DiffGMMBrain``: SpeechBrain's training loop applied to DiffGMM.

* TRAIN corrupts each utterance at a random diffusion step and fits the
  per-sample Gaussian mixture of the residual: ``nll_weight * NLL +
  mse_weight * ||sum_k pi_k mu_k - r_t||^2``.
* VALID and TEST also run the full reverse process and score PESQ-wb, STOI
  and SI-SDR of the enhanced audio (and, for reference, of the noisy input)
  with ``MetricStats``. The best checkpoint is chosen by validation PESQ, the
  learning rate annealed after each epoch, and TEST writes the enhanced wavs
  and a per-utterance score file. Other material than speech can choose its
  measures (``metrics``, e.g. ``[sdr, si_sdr]`` for bird song) and the one
  that selects the checkpoint (``checkpoint_metric``).
* A batch whose loss or gradients are not finite (NaN/Inf, e.g. from mixed
  precision) never reaches the weights: the optimizer step is skipped on
  every process, SpeechBrain's guard counts it against
  ``--nonfinite_patience`` (the run stops when an epoch exceeds it), a
  warning is logged and the epoch's count appears in the training log as
  ``skipped_batches``.

Authors
 * diffgmm-sb developers 2026
"""

import functools
import logging
import os

import speechbrain as sb
import torch
from speechbrain.utils.distributed import if_main_process, is_distributed_initialized
from speechbrain.utils.metric_stats import MetricStats

from diffgmm_sb.data.audio import write_wav
from diffgmm_sb.evaluation import metrics
from diffgmm_sb.model.mixture import mixture_nll, noise_prediction_loss
from diffgmm_sb.training.losses import PesqSurrogateLoss, multi_resolution_stft_loss

METRICS = {
    "pesq": metrics.pesq_wb,
    "stoi": metrics.stoi,
    "si_sdr": metrics.si_sdr,
    "sdr": metrics.sdr,
}
DEFAULT_METRICS = ("pesq", "stoi", "si_sdr")

logger = logging.getLogger(__name__)


def unwrap(module):
    """The model inside a DistributedDataParallel / DataParallel wrapper."""
    return getattr(module, "module", module)


class DiffGMMBrain(sb.Brain):
    """Trains and evaluates a :class:`diffgmm_sb.model.diffgmm.DiffGMM` (``modules.diffgmm``).

    hparams used: ``nll_weight``, ``mse_weight``, ``stft_weight``, ``sampler_steps``,
    ``sampler_mode``, ``lr_annealing``, ``train_logger``, ``epoch_counter``,
    ``enhanced_folder``, ``test_scores_folder``, ``sample_rate``; optional:
    ``sampler_final_gamma`` (default 0),
    ``pesq_weight`` (default 0, see ``diffgmm_sb.training.losses.PesqSurrogateLoss``),
    ``metrics`` (names of ``METRICS`` scored outside TRAIN, default
    ``DEFAULT_METRICS``) and
    ``checkpoint_metric`` (the one whose best validation value keeps a
    checkpoint, default ``pesq``). Like SpeechBrain's recipes, a recipe
    hands the Brain its whole hparams.

    Set ``test_name`` before ``evaluate`` to keep the outputs of several test
    sets apart: enhanced wavs go to ``<enhanced_folder>/<test_name>/`` and
    scores to ``<test_scores_folder>/test_scores_<test_name>.csv``.
    """

    test_name = "test"
    _skip_step = False  # set when a non-finite loss was seen since the last step

    def check_loss_isfinite(self, loss):
        """SpeechBrain's guard (count, patience), and marks the step to be skipped."""
        if not torch.isfinite(loss):
            self._skip_step = True
            logger.warning(
                "Non-finite training loss (%s) at step %d: the batch is skipped, "
                "the weights are unchanged (%d of at most %d this epoch)",
                float(loss),
                self.step,
                self.nonfinite_count + 1,
                self.nonfinite_patience,
            )
        super().check_loss_isfinite(loss)

    def optimizers_step(self):
        """Steps the optimizer unless a loss or gradient was not finite on any process.

        With fp16 on CUDA, SpeechBrain's ``GradScaler`` already skips such
        steps (and lowers its scale), so the decision is left to it.
        """
        skip, self._skip_step = self._skip_step, False
        if self.scaler.is_enabled():
            return super().optimizers_step()
        grads = [p.grad for p in self.modules.parameters() if p.grad is not None]
        finite = bool(torch.stack([torch.isfinite(g).all() for g in grads]).all())
        if not finite and not skip:  # finite loss, non-finite gradients
            logger.warning(
                "Non-finite gradients at step %d: the batch is skipped", self.step
            )
            super().check_loss_isfinite(torch.tensor(float("nan")))  # count, patience
        skip = _on_any_process(skip or not finite, self.device)
        if skip:
            self.zero_grad(set_to_none=True)
            return None
        return super().optimizers_step()

    def update_average(self, loss, avg_loss):
        """Running mean of the training loss; a skipped (non-finite) batch leaves it."""
        if not torch.isfinite(loss):
            return avg_loss
        return super().update_average(loss, avg_loss)

    def compute_forward(self, batch, stage):
        """Mixture at a random step; plus the enhanced audio outside TRAIN."""
        batch = batch.to(self.device)
        noisy, lens = batch.noisy_sig
        clean, _ = batch.clean_sig
        model = unwrap(self.modules.diffgmm)
        x_t, x, t, residual, mask = model.training_example(clean, noisy, lens)
        # Through the (possibly DDP-wrapped) module, so gradients are synced.
        mixture = self.modules.diffgmm(x_t, x, t)
        enhanced = None
        if stage != sb.Stage.TRAIN:
            enhanced = model.enhance(
                noisy,
                lens,
                steps=self.hparams.sampler_steps,
                mode=self.hparams.sampler_mode,
                final_gamma=getattr(self.hparams, "sampler_final_gamma", 0.0),
            )
        return mixture, x_t, residual, mask, enhanced

    def compute_objectives(self, predictions, batch, stage):
        """The DiffGMM loss; scores the enhanced audio outside TRAIN."""
        mixture, x_t, residual, mask, enhanced = predictions
        nll = mixture_nll(mixture, residual, mask)
        mse = noise_prediction_loss(mixture, residual, mask)
        loss = self.hparams.nll_weight * nll + self.hparams.mse_weight * mse
        terms = [term for term in self._spectral_terms() if term[1] > 0]
        values = {}
        if terms:
            # One-step clean estimate s_hat = x_t - r_hat against s = x_t - r_t.
            clean = x_t - residual
            estimate = (x_t - mixture.mean()) * mask
            for name, weight, loss_fn in terms:
                values[name] = loss_fn(estimate, clean)
                loss = loss + weight * values[name]
        if torch.isfinite(loss):  # skipped batches stay out of the averages
            self.loss_terms["nll"] += nll.detach()
            self.loss_terms["mse"] += mse.detach()
            for name, value in values.items():
                self.loss_terms[name] = self.loss_terms.get(name, 0.0) + value.detach()
            self.loss_terms["batches"] += 1
        self._score(batch, enhanced, stage)
        return loss

    @functools.cached_property
    def _pesq_loss(self):
        """The PESQ term's module, built (and moved to the device) on first use."""
        rate = getattr(self.hparams, "sample_rate", 16000)
        return PesqSurrogateLoss(rate).to(self.device)

    def _spectral_terms(self):
        """``(logged name, weight, loss(estimate, clean))`` of each term on ``s_hat``.

        ``stft_weight``, then ``pesq_weight`` (default 0; the PESQ module is
        built on first use only).
        """
        return (
            ("stft", self.hparams.stft_weight, multi_resolution_stft_loss),
            (
                "pesq_loss",
                getattr(self.hparams, "pesq_weight", 0.0),
                lambda estimate, clean: self._pesq_loss(estimate, clean),
            ),
        )

    def _score(self, batch, enhanced, stage):
        """Outside TRAIN: scores ``enhanced`` (and the noisy input); TEST writes it."""
        if stage == sb.Stage.TRAIN:
            return
        noisy, lens = batch.noisy_sig
        clean, _ = batch.clean_sig
        for stats in self.enhanced_metrics.values():
            stats.append(batch.id, enhanced, clean, lens)
        # The noisy input's scores do not change between epochs: once each.
        if not set(batch.id) <= self.noisy_scored:
            for stats in self.noisy_metrics.values():
                stats.append(batch.id, noisy, clean, lens)
            self.noisy_scored.update(batch.id)
        if stage == sb.Stage.TEST and if_main_process():
            self._write_enhanced(batch.id, enhanced, lens)

    def _write_enhanced(self, ids, enhanced, lens):
        folder = os.path.join(self.hparams.enhanced_folder, self.test_name)
        for uid, wav, rel in zip(ids, enhanced, lens):
            n = int(round(float(rel) * wav.shape[-1]))
            path = os.path.join(folder, f"{uid}.wav")
            write_wav(path, wav[:n].cpu().numpy(), self.hparams.sample_rate)

    def _metric_names(self):
        names = list(getattr(self.hparams, "metrics", DEFAULT_METRICS))
        unknown = [n for n in names if n not in METRICS]
        if unknown:
            raise ValueError(f"unknown metrics {unknown}; known: {', '.join(METRICS)}")
        return names

    def _trackers(self):
        return {
            k: MetricStats(metric=METRICS[k], batch_eval=True) for k in self._metric_names()
        }

    def on_stage_start(self, stage, epoch=None):
        """Fresh metric trackers for the stage."""
        # The terms on s_hat are added as they are first computed.
        self.loss_terms = {"nll": 0.0, "mse": 0.0, "batches": 0}
        if stage != sb.Stage.TRAIN:
            self.enhanced_metrics = self._trackers()
            if stage == sb.Stage.VALID and hasattr(self, "_valid_noisy"):
                self.noisy_metrics, self.noisy_scored = self._valid_noisy
            else:
                self.noisy_metrics = self._trackers()
                self.noisy_scored = set()
            if stage == sb.Stage.VALID:
                self._valid_noisy = (self.noisy_metrics, self.noisy_scored)

    def _loss_term_means(self):
        """The stage's mean of each loss term, for the log."""
        steps = max(self.loss_terms["batches"], 1)
        means = {
            "nll": float(self.loss_terms["nll"]) / steps,
            "mse": float(self.loss_terms["mse"]) / steps,
        }
        for name, weight, _ in self._spectral_terms():
            if weight > 0:
                means[name] = float(self.loss_terms.get(name, 0.0)) / steps
        return means

    def _summary(self, stage, stage_loss):
        stats = {"loss": stage_loss, **self._loss_term_means()}
        if stage != sb.Stage.TRAIN:
            for name, tracker in self.enhanced_metrics.items():
                stats[name] = _nanmean(tracker.scores)
            for name, tracker in self.noisy_metrics.items():
                stats[f"noisy_{name}"] = _nanmean(tracker.scores)
        return stats

    def on_stage_end(self, stage, stage_loss, epoch=None):
        """Logs, anneals the learning rate, checkpoints, writes test scores."""
        stats = self._summary(stage, stage_loss)
        if stage == sb.Stage.TRAIN:
            if self.nonfinite_count:
                stats["skipped_batches"] = self.nonfinite_count
            self.train_stats = stats
        elif stage == sb.Stage.VALID:
            old_lr, new_lr = self.hparams.lr_annealing(epoch)
            sb.nnet.schedulers.update_learning_rate(self.optimizer, new_lr)
            self.hparams.train_logger.log_stats(
                {"epoch": epoch, "lr": old_lr},
                train_stats=self.train_stats,
                valid_stats=stats,
            )
            key = getattr(self.hparams, "checkpoint_metric", "pesq")
            self.checkpointer.save_and_keep_only(
                meta={key: stats[key], "epoch": epoch},
                max_keys=[key],
                num_to_keep=1,
            )
        else:
            self.hparams.train_logger.log_stats(
                {"Epoch loaded": self.hparams.epoch_counter.current, "set": self.test_name},
                test_stats=stats,
            )
            if if_main_process():  # every rank scores the whole test set
                self._write_scores()
        self.last_stage_stats = stats

    def _write_scores(self):
        """Per-utterance test scores, noisy and enhanced, as a CSV file."""
        path = os.path.join(
            self.hparams.test_scores_folder, f"test_scores_{self.test_name}.csv"
        )
        names = list(self.enhanced_metrics)
        with open(path + ".part", "w") as f:
            header = (
                ["id"] + [f"noisy_{n}" for n in names] + [f"enhanced_{n}" for n in names]
            )
            f.write(",".join(header) + "\n")
            enhanced = self.enhanced_metrics
            for i, uid in enumerate(enhanced[names[0]].ids):
                row = [uid]
                row += [f"{float(self.noisy_metrics[n].scores[i]):.4f}" for n in names]
                row += [f"{float(enhanced[n].scores[i]):.4f}" for n in names]
                f.write(",".join(row) + "\n")
        os.replace(path + ".part", path)


def _on_any_process(flag, device):
    """True on every process if ``flag`` is True on any (DDP); ``flag`` otherwise."""
    if not is_distributed_initialized():
        return flag
    value = torch.tensor([float(flag)], device=device)
    torch.distributed.all_reduce(value, op=torch.distributed.ReduceOp.MAX)
    return bool(value.item())


def _nanmean(scores):
    values = torch.tensor([float(s) for s in scores])
    values = values[~torch.isnan(values)]
    return float(values.mean()) if len(values) else float("nan")
