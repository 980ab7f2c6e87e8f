"""A conditional tabular GAN in the CTGAN family (Xu et al. 2019), written for ganforge.

Data: rows encoded by :class:`~ganforge.data.tables.TableTransformer` (quantile-normal scores, or with
``data.encoding=modes`` CTGAN's mode-specific normalization, for continuous columns; one-hot blocks for
categories and missing indicators), batches drawn by
training-by-sampling (:class:`~ganforge.data.tables.TableSource`), which also gives each row's condition:
one category c of one discrete column, as a one-hot *conditional vector* over all discrete categories.

Networks (CTGAN's):
    G(z, cond): residual blocks h -> [ReLU(BN(W h)), h] (each block's input is carried along), then a
    linear layer to the encoded width. Outputs are activated per span: tanh for a mode's alpha,
    Gumbel-softmax (temperature ``tau`` = 0.2) for every one-hot block while training; when sampling, each
    block is drawn hard by the Gumbel-max trick, i.e. a category k with probability softmax(logits)_k.
    D(x, cond): PacGAN with ``pack`` = 10 rows per input (gans/packing.py): [x, cond] of 10 rows
    concatenated -> (Linear, LeakyReLU(0.2), Dropout(0.5)) x 2 -> Linear -> one score.

Objective (WGAN-GP, Gulrajani et al. 2017, the penalty of gans/penalties.py on packed inputs):
    L_D = E D(G(z, c), c) - E D(x_c, c) + lambda E (||grad D(x_hat, c)|| - 1)^2
    L_G = -E D(G(z, c), c) + CE(G's logits of the conditioned column, c)
where x_c are real rows having category c and the cross entropy (CTGAN's conditional loss) makes G honour
its condition. As in ganforge's GAN, the fake batch of the D phase is reused by the G phase.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.data.base import Batch, DataSource
from ganforge.data.tables import TableSource, TableTransformer, _fresh_ids, read_table, row_hashes, table_source
from ganforge.errors import GanforgeError, quote, whole_number
from ganforge.gans.base import GANModel, Noise, Phase, frozen
from ganforge.gans.packing import PackedDiscriminator
from ganforge.gans.penalties import GradientPenalty
from ganforge.gans.registry import register_model
from ganforge.gans.vanilla import PenaltyInputs, checked_count, checked_positive, checked_sizes

MAX_SAMPLING_ROUNDS = 200


class Residual(nn.Module):
    """CTGAN's generator block: ``[ReLU(BN(W h + b)), h]`` (output width = in + out)."""

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([F.relu(self.bn(self.fc(x))), x], dim=1)


def table_generator(in_dim: int, hidden: Sequence[int], out_dim: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = in_dim
    for h in hidden:
        layers.append(Residual(width, h))
        width += h
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


def table_discriminator(in_dim: int, hidden: Sequence[int], pack: int) -> PackedDiscriminator:
    layers: list[nn.Module] = []
    width = in_dim * pack
    for h in hidden:
        layers += [nn.Linear(width, h), nn.LeakyReLU(0.2), nn.Dropout(0.5)]
        width = h
    layers.append(nn.Linear(width, 1))
    return PackedDiscriminator(nn.Sequential(*layers), pack)


WHERE_FORMAT = (
    "expected COLUMN=VALUE, several joined by commas; quote a value holding a comma, e.g. "
    """--where 'sex=F,city="Paris, FR"'"""
)


def parse_where(where: str | dict[str, str] | None) -> list[tuple[str, str]]:
    """``"sex=F,island=Biscoe"`` (or a mapping) -> [(column, value), ...]. A value (or column) that starts
    with a quote, ``city="Paris, FR"`` or ``city='Paris, FR'``, runs to the matching quote, so it can hold
    commas; a quote inside a word (``d'Ivoire``) is a plain character."""
    if where is None or where == "":
        return []
    if isinstance(where, dict):
        return [(str(k), str(v)) for k, v in where.items()]
    text = str(where)
    parts: list[str] = []
    current = ""
    quote: str | None = None
    for char in text:
        if quote is not None:
            if char == quote:
                quote = None
            else:
                current += char
        elif char in "\"'" and (not current.strip() or current.strip().endswith("=")):
            quote = char
        elif char == ",":
            parts.append(current)
            current = ""
        else:
            current += char
    if quote is not None:
        raise GanforgeError(f"--where {text!r}: a quote ({quote}) is not closed; {WHERE_FORMAT}")
    parts.append(current)
    out = []
    for part in parts:
        column, eq, value = part.partition("=")
        if not eq or not column.strip():
            raise GanforgeError(f"--where {text!r}: {WHERE_FORMAT}")
        out.append((column.strip(), value.strip()))
    return out


def _is_value(cell: Any, wanted: Any) -> bool:
    """Whether a generated cell is the wanted category; a missing cell (None, NaN, ``pd.NA``, whose ``==``
    answers NA and made ``or`` raise "boolean value of NA is ambiguous") matches only the missing category."""
    import pandas as pd

    if cell is None or pd.isna(cell):
        return wanted is None
    return wanted is not None and bool(cell == wanted)


def _checked_settings(**given: Any) -> dict[str, Any]:
    """TableGAN's settings, each checked by itself and refused in one line naming it: one check lumped
    pack, n_critic, noise_dim and tau together, ``generator=16`` reached ``iter(16)``, ``generator=(0,)`` an
    IndexError when training began, and ``gp=-1`` (a penalty that rewards a steep critic) or ``pack=2.5``
    (run as 2) trained silently."""
    out: dict[str, Any] = {}
    for name in ("noise_dim", "pack", "n_critic"):
        out[name] = checked_count(given[name], "TableGAN", name, _SETTING_MEANING[name])
    for name in ("generator", "discriminator"):
        widths = given[name]
        if not isinstance(widths, (list, tuple)):
            raise GanforgeError(
                f"TableGAN({name}={quote(widths)}): give the hidden layers' widths as a list, e.g. {name}=(256, 256) "
                f"({name}=({quote(widths)},) for one layer)"
            )
        out[name] = checked_sizes(widths, "TableGAN", name, f"give {_SETTING_MEANING[name]}")
    out["gp"] = checked_positive(given["gp"], "TableGAN", "gp", _SETTING_MEANING["gp"], allow_zero=True)
    out["tau"] = checked_positive(given["tau"], "TableGAN", "tau", _SETTING_MEANING["tau"])
    out["cond_weight"] = checked_positive(
        given["cond_weight"], "TableGAN", "cond_weight", _SETTING_MEANING["cond_weight"], allow_zero=True
    )
    return {name: out[name] for name in given}


_SETTING_MEANING = {
    "noise_dim": "the size of the noise z, 128 in CTGAN",
    "pack": "rows per discriminator input (PacGAN), 10 in CTGAN",
    "n_critic": "discriminator updates per generator update",
    "generator": "each hidden layer's width as a whole number >= 1, e.g. generator=(256, 256); () for none",
    "discriminator": "each hidden layer's width as a whole number >= 1, e.g. discriminator=(256, 256); () for none",
    "gp": "the gradient penalty's weight lambda, 10 in WGAN-GP; 0 turns it off",
    "tau": "the Gumbel-softmax temperature, 0.2 in CTGAN",
    "cond_weight": "the weight of the conditional loss, 1 in CTGAN; 0 turns it off",
}


class TableGAN(GANModel):
    """CTGAN-style conditional WGAN-GP for tables (see the module docstring).

    In Python, ``gf.train(gf.TableGAN(), data=df)`` builds the networks for ``df`` when training starts;
    recipes use ``model: {type: tablegan, ...}``."""

    objective_label = "wgan-gp"  # its loss is built in (no swappable model.objective): what the studio shows
    output_activation = "linear"
    default_recipe = "table"  # its training settings serve gf.train(TableGAN(), data=...) (api.py)

    def __init__(
        self,
        table: dict[str, Any] | TableTransformer | None = None,
        noise_dim: int = 128,
        generator: Sequence[int] = (256, 256),
        discriminator: Sequence[int] = (256, 256),
        pack: int = 10,
        gp: float = 10.0,
        tau: float = 0.2,
        cond_weight: float = 1.0,
        n_critic: int = 1,
    ) -> None:
        super().__init__()
        self.settings = _checked_settings(
            noise_dim=noise_dim, generator=generator, discriminator=discriminator, pack=pack, gp=gp, tau=tau,
            cond_weight=cond_weight, n_critic=n_critic,
        )
        if table is not None and not isinstance(table, (dict, TableTransformer)):
            raise GanforgeError(
                f"TableGAN(table={quote(table)}): give the table's fitted TableTransformer (or its to_dict()), or "
                "leave table out: gf.train(gf.TableGAN(), data=df) fits it to the data"
            )
        settings = self.settings
        self.noise = Noise(settings["noise_dim"])
        self.pack, self.tau, self.n_critic = settings["pack"], settings["tau"], settings["n_critic"]
        self.cond_weight = settings["cond_weight"]
        self.batch_multiple = self.pack  # D reads the batch in packs (checked before a run folder is written)
        self.penalty = GradientPenalty(settings["gp"])
        self.transformer: TableTransformer | None = None
        self._cached: tuple[Tensor, Tensor, Tensor | None, Tensor | None] | None = None
        self._step = 0
        self._training_rows: set[str] = set()
        self._column_probs: Tensor | None = None
        if isinstance(table, dict):
            try:
                table = TableTransformer.from_dict(table)
            except (GanforgeError, AttributeError, KeyError, TypeError, ValueError):  # its message blames a
                # run's data.json, where a dict usually comes from; here the argument is at fault
                raise GanforgeError(
                    "TableGAN(table={...}): the dict is not a TableTransformer's to_dict() (its 'columns' and 'order' "
                    "are missing or damaged); give the transformer itself, or leave table out to fit it to the data"
                ) from None
        if table is not None:
            self.bind(table)

    # --- building ---------------------------------------------------------------------------------
    def bind(
        self,
        table: dict[str, Any] | TableTransformer,
        row_hashes: list[str] | None = None,
        condition_probs: list[float] | None = None,
    ) -> None:
        """Create the networks for a table (its transformer, or the transformer's dict from data.json);
        ``row_hashes`` (data/tables.py) of the training rows let sampling refuse exact copies of them;
        ``condition_probs`` (data.target_share) weight the choice of the conditioned column as in training."""
        self._training_rows = set(row_hashes or [])
        self._column_probs = None if condition_probs is None else torch.tensor(condition_probs, dtype=torch.float64)
        transformer = table if isinstance(table, TableTransformer) else TableTransformer.from_dict(table)
        self.transformer = transformer
        spans = transformer.spans
        self.data_dim = transformer.width
        discrete = transformer.discrete_spans
        self.cond_dim = sum(s.width for s in discrete)
        # per global category: its span's start in the encoded row, the span's width, the local index
        starts, widths, local, span_of = [], [], [], []
        for j, s in enumerate(discrete):
            for k in range(s.width):
                starts.append(s.start)
                widths.append(s.width)
                local.append(k)
                span_of.append(j)
        self.register_buffer("cat_span", torch.tensor(span_of, dtype=torch.long), persistent=False)
        self.register_buffer("cat_local", torch.tensor(local, dtype=torch.long), persistent=False)
        self._discrete = [(s.start, s.width) for s in discrete]
        counts = transformer.discrete_counts()
        self._original_probs = [torch.tensor(c / c.sum(), dtype=torch.float64) for c in counts]
        self._offsets = np.cumsum([0] + [s.width for s in discrete])[:-1].tolist()
        self._tanh = torch.tensor([s.start for s in spans if s.activation == "tanh"], dtype=torch.long)
        self._softmax = [(s.start, s.width) for s in spans if s.activation == "softmax"]
        g_in = self.noise.dim + self.cond_dim
        self.generator = table_generator(g_in, self.settings["generator"], self.data_dim)
        self.discriminator = table_discriminator(
            self.data_dim + self.cond_dim, self.settings["discriminator"], self.pack
        )

    def config_section(self) -> dict[str, Any]:
        """The ``model:`` section a recipe would give this TableGAN (``type: tablegan`` and its settings): a run
        trained from Python records it, so ``gf.load`` rebuilds the networks in a new process from data.json."""
        return {"type": "tablegan", **self.settings}

    def prepare_data(self, data: Any) -> DataSource:
        """The training source for ``gf.train(TableGAN(), data=...)``: a DataFrame, a .csv path (str or
        ``pathlib.Path``, as ``gf.train`` takes for other data) or a TableSource (the networks are built by
        :meth:`build_for` once the run is seeded). Infinite numbers are refused by ``data.tables.check_frame``."""
        import os

        import pandas as pd

        if isinstance(data, os.PathLike) and not isinstance(data, str):  # a pathlib.Path, as gf.train's other data
            data = os.fspath(data)
        if isinstance(data, pd.DataFrame):
            source = table_source(data, "dataframe")
        elif isinstance(data, str) and data.lower().endswith(".csv"):
            source = table_source(read_table(data), Path(data).name[:-4], path=data)
        elif isinstance(data, TableSource):
            source = data
        else:
            raise GanforgeError(
                "TableGAN trains on a table: give data= a pandas DataFrame or a .csv path (a str or pathlib.Path), "
                f"got {type(data).__name__}"
            )
        if self.transformer is not None and self.data_dim != source.sample_shape[0]:
            raise GanforgeError("this TableGAN was built for another table; create a new TableGAN() for this data")
        return source

    def build_for(self, source: DataSource) -> None:
        """Build the networks for ``source`` (called by ``gf.train`` after seeding, so a seed fixes them)."""
        if self.transformer is None:
            table = getattr(source, "transformer", None) or source.info.get("table")
            if table is None:
                raise GanforgeError(f"data '{source.name}' is not a table; TableGAN trains on tables")
            self.bind(table, source.info.get("row_hashes"), source.info.get("condition_probs"))

    # --- conditions -----------------------------------------------------------------------------------
    def _one_hot(self, cats: Tensor | None, n: int, device: torch.device) -> Tensor | None:
        if self.cond_dim == 0:
            return None
        if cats is None:
            cats = self.original_conditions(n).to(device)
        return F.one_hot(cats.long(), self.cond_dim).float()

    def original_conditions(self, n: int) -> Tensor:
        """Conditions for unconditional sampling: a discrete column (uniformly, or with the training
        weights of data.target_share), then one of its categories with its frequency in the training rows
        (so the generated table keeps the real frequencies)."""
        if self._column_probs is None:
            cols = torch.randint(0, len(self._original_probs), (n,))
        else:
            cols = torch.multinomial(self._column_probs, n, replacement=True)
        cats = torch.empty(n, dtype=torch.long)
        for j, probs in enumerate(self._original_probs):
            sel = cols == j
            m = int(sel.sum())
            if m:
                cats[sel] = self._offsets[j] + torch.multinomial(probs, m, replacement=True)
        return cats

    # --- forward ------------------------------------------------------------------------------------------
    def sample_latents(self, n: int) -> Tensor:
        return self.noise.sample(n)

    def _activate(self, raw: Tensor, hard: bool) -> Tensor:
        parts = raw.clone()
        if len(self._tanh):
            parts[:, self._tanh] = torch.tanh(raw[:, self._tanh])
        for start, width in self._softmax:
            logits = raw[:, start : start + width]
            if hard:
                u = torch.rand_like(logits).clamp(1e-10, 1.0 - 1e-7)
                g = -torch.log(-torch.log(u))  # Gumbel(0, 1)
                parts[:, start : start + width] = F.one_hot((logits + g).argmax(1), width).to(raw.dtype)
            else:
                parts[:, start : start + width] = F.gumbel_softmax(logits, tau=self.tau, hard=False)
        return parts

    def _generate_raw(self, z: Tensor, cond: Tensor | None) -> Tensor:
        x = z if cond is None else torch.cat([z, cond], dim=1)
        return self.generator(x)

    def generate(self, z: Tensor, y: Tensor | None = None, **options: Any) -> Tensor:
        """Encoded rows for noise ``z`` and category numbers ``y`` (None: drawn with the data's frequencies)."""
        if self.transformer is None:
            raise GanforgeError("TableGAN has no table yet; train it with gf.train(TableGAN(), data=df)")
        cond = self._one_hot(y, z.shape[0], z.device)
        return self._activate(self._generate_raw(z, cond), hard=not self.training)

    def discriminate(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        cond = y if (y is None or y.is_floating_point()) else self._one_hot(y, x.shape[0], x.device)
        if cond is None and self.cond_dim:
            cond = self._one_hot(None, x.shape[0], x.device)
        inputs = x if cond is None else torch.cat([x, cond], dim=1)
        return self.discriminator(inputs).flatten()

    # --- training -----------------------------------------------------------------------------------------
    def phases(self, step: int) -> list[Phase]:
        return self.two_player_phases(step, self.n_critic)

    def phase_loss(self, phase: Phase, batch: Batch | None, repeat: int) -> tuple[Tensor, dict[str, Tensor]]:
        if phase.name == "discriminator":
            assert batch is not None
            return self._discriminator_phase(batch, keep_graph=repeat == phase.repeats - 1)
        return self._generator_phase()

    def _discriminator_phase(self, batch: Batch, keep_graph: bool) -> tuple[Tensor, dict[str, Tensor]]:
        real, cats = batch.x, batch.y
        n = real.shape[0]
        if n % self.pack:
            raise GanforgeError(f"train.batch_size={n} must be a multiple of model.pack={self.pack}")
        cond = self._one_hot(cats, n, real.device)
        z = self.sample_latents(n).to(real.device)
        with torch.set_grad_enabled(keep_graph):
            raw = self._generate_raw(z, cond)
            fake = self._activate(raw, hard=False)
        self._cached = (fake, raw, cats, cond) if keep_graph else None
        fake = fake.detach()
        real_logits = self.discriminate(real, cond)
        fake_logits = self.discriminate(fake, cond)
        loss = fake_logits.mean() - real_logits.mean()
        logs = {"loss_d": loss.detach(), "wasserstein": (real_logits.mean() - fake_logits.mean()).detach()}
        inputs = PenaltyInputs(
            partial(self.discriminate, y=cond), real, fake, real_logits, fake_logits, cats, self._step
        )
        penalty = self.penalty(inputs)
        if penalty is not None:
            logs["gp"] = penalty.detach()
            loss = loss + penalty
        return loss, logs

    def condition_loss(self, raw: Tensor, cats: Tensor | None) -> Tensor:
        """CTGAN's conditional loss: cross entropy of G's logits in the conditioned column against the
        conditioned category, averaged over the batch."""
        if cats is None or not self._discrete:
            return raw.new_zeros(())
        total = raw.new_zeros(())
        spans = self.cat_span[cats]
        local = self.cat_local[cats]
        for j, (start, width) in enumerate(self._discrete):
            sel = spans == j
            if sel.any():
                total = total + F.cross_entropy(raw[sel, start : start + width], local[sel], reduction="sum")
        return total / raw.shape[0]

    def _generator_phase(self) -> tuple[Tensor, dict[str, Tensor]]:
        if self._cached is None:
            raise RuntimeError("the generator phase reuses the fake batch of the discriminator phase before it")
        fake, raw, cats, cond = self._cached
        self._cached = None
        with frozen(self.discriminator):
            fake_logits = self.discriminate(fake, cond)
        cond_loss = self.condition_loss(raw, cats)
        loss = -fake_logits.mean() + self.cond_weight * cond_loss
        return loss, {"loss_g": loss.detach(), "cond_loss": cond_loss.detach()}

    # --- tables out --------------------------------------------------------------------------------------
    @torch.no_grad()
    def sample_table(self, n: int, where: str | dict[str, str] | None = None, batch_size: int = 4096) -> Any:
        """``n`` synthetic rows as a DataFrame with the input's columns, order and types. Rows equal to a
        training row (in every non-id column) are dropped and redrawn, so no real record is copied (unless
        most generated rows are such copies, as in tables of a few categorical columns where every possible
        row occurs in the data: there the filter turns itself off).

        ``where`` ("col=value,..."): the generator is conditioned on the first condition and rows are
        drawn until ``n`` satisfy every condition (rejection), so each returned row honours them.

        ``n`` is a positive whole number (:func:`~ganforge.errors.whole_number`): ``int(n)`` turned ``2.5`` into 2
        rows and took ``"4"``."""
        import pandas as pd

        if self.transformer is None:
            raise GanforgeError("TableGAN has no table yet; train it first")
        count = whole_number(n)
        if count is None or count <= 0:
            raise GanforgeError(f"--rows / rows={quote(n)}: give a positive whole number of rows")
        n = count
        conditions = parse_where(where)
        fixed: int | None = None
        for i, (column, value) in enumerate(conditions):
            span, local = self.transformer.condition_index(column, value)
            if i == 0:
                fixed = self._offsets[span] + local
        columns = {c.name: c for c in self.transformer.columns}
        was_training = self.training
        self.eval()
        try:
            parts, have = [], 0
            filter_copies = bool(self._training_rows)
            for _ in range(MAX_SAMPLING_ROUNDS):
                m = min(batch_size, max(n - have, 1) if not conditions else batch_size)
                z = self.sample_latents(m).to(next(self.parameters()).device)
                y = None if fixed is None else torch.full((m,), fixed, dtype=torch.long, device=z.device)
                frame = self.transformer.inverse(self.generate(z, y).cpu().numpy())
                for column, value in conditions:
                    cats = columns[column].categories
                    labels = ["" if c is None else str(c) for c in cats]
                    wanted = next(c for c, label in zip(cats, labels, strict=True) if label.lower() == value.lower())
                    keep = frame[column].astype(object).map(lambda v, w=wanted: _is_value(v, w))
                    frame = frame[keep.to_numpy(dtype=bool)]
                if filter_copies and len(frame):  # never emit a copy of a training row
                    fresh = np.asarray([h not in self._training_rows for h in row_hashes(frame, self.transformer)])
                    if fresh.mean() < 0.5:  # most rows are copies: few distinct rows exist (all-category
                        filter_copies = False  # tables); a copy then says nothing about one person
                    else:
                        frame = frame[fresh]
                parts.append(frame)
                have += len(frame)
                if have >= n:
                    break
            else:
                raise GanforgeError(
                    f"--where {where}: only {have} of {n} generated rows satisfy the condition after "
                    f"{MAX_SAMPLING_ROUNDS} rounds; the conditions may (almost) never occur together in the data"
                )
        finally:
            self.train(was_training)
        out = pd.concat(parts, ignore_index=True).iloc[:n].reset_index(drop=True)
        for col in self.transformer.columns:
            if col.kind == "id":
                out[col.name] = _fresh_ids(col, n, 0)
        return out


@register_model("tablegan")
def tablegan(
    source: DataSource,
    noise_dim: int = 128,
    generator: list[int] = [256, 256],  # noqa: B006 - a config default, never mutated
    discriminator: list[int] = [256, 256],  # noqa: B006
    pack: int = 10,
    gp: float = 10.0,
    tau: float = 0.2,
    cond_weight: float = 1.0,
    n_critic: int = 1,
) -> TableGAN:
    """CTGAN-family conditional WGAN-GP for mixed-type tables (mode-specific normalization, PacGAN)."""
    table = source.info.get("table") if isinstance(source.info, dict) else None
    if source.kind != "table" or not isinstance(table, dict):
        raise GanforgeError(
            f"model.type=tablegan trains on tables, but data '{source.name}' is {source.kind} data; "
            "use data.source=table with a .csv path (or the `table` recipe)"
        )
    gan = TableGAN(None, noise_dim, generator, discriminator, pack, gp, tau, cond_weight, n_critic)
    gan.bind(table, source.info.get("row_hashes"), source.info.get("condition_probs"))
    return gan
