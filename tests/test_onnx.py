"""chainrule.onnx.export against onnxruntime and torch: each supported model is built in both
libraries with torch's weights, exported from chainrule, checked with onnx.checker, run in
onnxruntime, and compared with chainrule's and torch's outputs, at the traced batch size and at
another one (dynamic axes); then the unhappy paths (unsupported ops, input-dependent constants,
arguments torch refuses)."""

from __future__ import annotations

import io
import math
import os

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")

from oracle import copy_torch_weights, to_numpy  # noqa: E402

import chainrule  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ---- the models, written once against either library ----------------------------------------------
def mlp(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Linear(4, 8), nn.ReLU(), nn.GELU(), nn.Linear(8, 8), nn.Sigmoid(), nn.Tanh(), nn.LeakyReLU(0.1),
        nn.SiLU(), nn.Dropout(0.5), nn.GELU(approximate="tanh"), nn.Linear(8, 3),
        nn.Hardtanh(-0.5, 0.75), nn.ReLU6(), nn.Hardsigmoid(), nn.Softmax(-1),
    )  # fmt: skip


def cnn2d(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=1, padding=1, groups=2), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.LayerNorm(6), nn.Linear(6, 5), nn.LogSoftmax(1),
    )  # fmt: skip


def cnn1d(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv1d(3, 4, 3, padding=2, dilation=2), nn.BatchNorm1d(4), nn.ReLU(), nn.MaxPool1d(2),
        nn.AvgPool1d(2), nn.Flatten(), nn.Linear(16, 2),
    )  # fmt: skip


def pools(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), nn.AvgPool2d(3, stride=2, padding=1),
        nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False), nn.AdaptiveAvgPool2d((2, 2)),
    )  # fmt: skip


def group_norms(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.GroupNorm(2, 4), nn.ReLU(), nn.GroupNorm(4, 4, affine=False),
        nn.Conv2d(4, 6, 1, bias=False), nn.GroupNorm(1, 6, eps=0.1),
    )  # fmt: skip


def deconv(lib):
    nn = lib.nn
    return nn.Sequential(nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1), nn.Tanh(),
                         nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1))  # fmt: skip


def embed(lib):
    nn = lib.nn

    class Embed(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 6)
            self.norm = nn.LayerNorm(6)
            self.head = nn.Linear(6, 4)

        def forward(self, ids):
            return self.head(self.norm(self.emb(ids)))

    return Embed()


def tensor_ops(lib):
    nn = lib.nn

    class Ops(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(6, 6)

        def forward(self, x, y):
            b = x.size(0)
            h = self.fc(x).view(b, 2, 3).permute(0, 2, 1).reshape(b, -1)
            z = lib.cat([h * 2 + 1, (y - 0.5) / 3, h**2, lib.sqrt(y.abs() + 1), h.exp().clamp(max=4)], dim=1)
            z = z.transpose(0, 1).t().unsqueeze(1).squeeze(1)[:, 1:-1]
            w = lib.stack([z, -z], dim=-1).sum(-1) + z.mean(1, keepdim=True) - 1 / (z.abs() + 1)
            return lib.maximum(w @ w.t(), lib.zeros(1)), lib.tanh(w).flatten()

    return Ops()


def recurrent(kind, **kw):
    def build(lib):
        return getattr(lib.nn, kind)(3, 5, **kw)

    build.__name__ = f"{kind}({', '.join(f'{k}={v}' for k, v in kw.items())})"
    return build


def attention(lib, batch_first=True):
    nn = lib.nn

    class Attend(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(8, 2, batch_first=batch_first)

        def forward(self, q, kv):
            out, weights = self.attn(q, kv, kv)
            return out, weights

    return Attend()


def encoder(lib, **kw):
    return lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, **kw)


def encoder_stack(lib):
    layer = lib.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, activation="gelu", norm_first=True)
    return lib.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)


def padded_convs(lib):
    nn, F = lib.nn, lib.nn.functional

    class Padded(nn.Module):
        def __init__(self):
            super().__init__()
            self.same = nn.Conv2d(3, 4, 4, padding="same")  # pads 1 before, 2 after
            self.reflect = nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect")
            self.norm = nn.BatchNorm2d(4, track_running_stats=False)  # the batch's own statistics

        def forward(self, x):
            return self.norm(self.reflect(F.pad(self.same(x), (1, 2, 0, 1))))

    return Padded()


def gpt(lib):
    """A GPT-style block as the teaching repositories write it: token and position embeddings,
    split heads with view/transpose, a causal mask from a tril buffer through masked_fill."""
    nn, F = lib.nn, lib.nn.functional

    class Block(nn.Module):
        def __init__(self, vocab=10, block=5, width=8, heads=2):
            super().__init__()
            self.tok, self.pos = nn.Embedding(vocab, width), nn.Embedding(block, width)
            self.ln = nn.LayerNorm(width)
            self.qkv, self.proj = nn.Linear(width, 3 * width), nn.Linear(width, width)
            self.head = nn.Linear(width, vocab, bias=False)
            self.register_buffer("mask", lib.tril(lib.ones(block, block)).view(1, 1, block, block))
            self.heads = heads

        def forward(self, idx):
            B, T = idx.size()
            x = self.tok(idx) + self.pos(lib.arange(0, T, dtype=lib.long))
            C = x.size(-1)
            q, k, v = self.qkv(self.ln(x)).split(C, dim=2)
            q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = F.softmax(att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf")), dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
            return self.head(x + self.proj(y))

    return Block()


def sdpa(lib):
    class Attend(lib.nn.Module):
        def forward(self, q, k, v):
            return lib.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)

    return Attend()


def masked_attention(lib):
    class Attend(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = lib.nn.MultiheadAttention(8, 2, batch_first=True)

        def forward(self, x, mask):
            return self.attn(x, x, x, attn_mask=mask)[0]

    return Attend()


def causal_encoder(lib):
    nn = lib.nn

    class Causal(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)

        def forward(self, x):
            mask = nn.Transformer.generate_square_subsequent_mask(x.size(1))
            return self.layer(x, src_mask=mask, is_causal=True)

    return Causal()


def _float(*shape):
    return lambda batch, rng: rng.standard_normal((batch, *shape)).astype(np.float32)


def _seq_first(seq, feat):
    return lambda batch, rng: rng.standard_normal((seq, batch, feat)).astype(np.float32)


def _ids(batch, rng):
    return rng.integers(0, 10, size=(batch, 5)).astype(np.int64)


# (id, builder, input makers (batch, rng) -> array, dynamic axes per input)
MODELS = [
    ("mlp", mlp, [_float(4)], [{0: "batch"}]),
    ("cnn2d", cnn2d, [_float(3, 8, 8)], [[0]]),
    ("cnn1d", cnn1d, [_float(3, 16)], [[0]]),
    ("pools", pools, [_float(2, 9, 9)], [[0]]),
    ("deconv", deconv, [_float(4, 5, 5)], [[0]]),
    ("group_norms", group_norms, [_float(3, 5, 5)], [[0]]),
    ("embedding", embed, [_ids], [[0]]),
    ("tensor_ops", tensor_ops, [_float(6), _float(6)], [[0], [0]]),
    ("rnn", recurrent("RNN", num_layers=2), [_seq_first(4, 3)], [[1]]),
    ("rnn_relu_bf", recurrent("RNN", nonlinearity="relu", batch_first=True), [_float(4, 3)], [[0]]),
    ("lstm", recurrent("LSTM", num_layers=2, bidirectional=True), [_seq_first(4, 3)], [[1]]),
    ("lstm_bf", recurrent("LSTM", batch_first=True), [_float(4, 3)], [[0]]),
    ("gru", recurrent("GRU", num_layers=2), [_seq_first(4, 3)], [[1]]),
    ("gru_bf_bi", recurrent("GRU", batch_first=True, bidirectional=True, bias=False), [_float(4, 3)], [[0]]),
    ("mha", attention, [_float(5, 8), _float(7, 8)], [[0], [0]]),
    ("mha_seq_first", lambda lib: attention(lib, False), [_seq_first(5, 8), _seq_first(7, 8)], [[1], [1]]),
    ("encoder_layer", lambda lib: encoder(lib, batch_first=True), [_float(5, 8)], [[0]]),
    ("encoder_layer_seq_first", encoder, [_seq_first(5, 8)], [[1]]),
    ("encoder_stack", encoder_stack, [_float(5, 8)], [[0]]),
    ("causal_encoder", causal_encoder, [_float(5, 8)], [[0]]),
    ("mha_float_mask", masked_attention, [_float(5, 8), lambda batch, rng: _float(5)(5, rng)], [[0], []]),
    ("sdpa", sdpa, [_float(2, 5, 4)] * 3, [[0]] * 3),
    ("gpt", gpt, [_ids], [[0]]),
    ("padded_convs", padded_convs, [_float(3, 6, 6)], [[0]]),
]


def _pair(builder):
    torch.manual_seed(0)
    theirs = builder(torch)
    with torch.no_grad():  # running statistics that are not the defaults
        for name, buf in theirs.named_buffers():
            if name.endswith("running_mean"):
                buf.uniform_(-0.5, 0.5)
            elif name.endswith("running_var"):
                buf.uniform_(0.5, 2.0)
    ours = builder(chainrule)
    copy_torch_weights(ours, theirs)
    return ours.eval(), theirs.eval()


def _flat(out) -> list:
    if isinstance(out, (tuple, list)):  # LSTM: (output, (h_n, c_n))
        return [leaf for o in out for leaf in _flat(o)]
    return [out]


def _run_ours(model, arrays):
    with chainrule.no_grad():
        return [to_numpy(o) for o in _flat(model(*[chainrule.tensor(a) for a in arrays]))]


def _run_torch(model, arrays):
    with torch.no_grad():
        return [o.numpy() for o in _flat(model(*[torch.from_numpy(a) for a in arrays]))]


def _export(model, arrays, **kw) -> bytes:
    buf = io.BytesIO()
    chainrule.onnx.export(model, tuple(chainrule.tensor(a) for a in arrays), buf, **kw)
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    return buf.getvalue()


def _session(data: bytes):
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("name, builder, makers, axes", MODELS, ids=[m[0] for m in MODELS])
def test_exported_model_matches_chainrule_and_torch(name, builder, makers, axes):
    ours, theirs = _pair(builder)
    rng = np.random.default_rng(0)
    arrays = [make(2, rng) for make in makers]
    names = [f"in{i}" for i in range(len(arrays))]
    data = _export(ours, arrays, input_names=names, dynamic_axes=dict(zip(names, axes)))
    session = _session(data)
    for batch in (2, 3, 1):  # the traced batch size, then others through the dynamic axes
        arrays = [make(batch, rng) for make in makers]
        got = session.run(None, dict(zip(names, arrays)))
        expected_ours, expected_torch = _run_ours(ours, arrays), _run_torch(theirs, arrays)
        assert len(got) == len(expected_ours) == len(expected_torch)
        for g, a, b in zip(got, expected_ours, expected_torch):
            assert g.shape == a.shape == b.shape, (name, batch)
            np.testing.assert_allclose(
                g, a, rtol=1e-5, atol=2e-6, err_msg=f"{name}: onnxruntime vs chainrule"
            )
            np.testing.assert_allclose(g, b, rtol=1e-5, atol=2e-6, err_msg=f"{name}: onnxruntime vs torch")


def test_parameters_are_initializers_named_by_module_path():
    ours, _ = _pair(cnn2d)
    proto = onnx.load_from_string(_export(ours, [np.zeros((2, 3, 8, 8), np.float32)]))
    initializers = {i.name: onnx.numpy_helper.to_array(i) for i in proto.graph.initializer}
    state = ours.state_dict()
    for key in ("0.weight", "0.bias", "1.weight", "1.running_mean", "1.running_var", "9.weight", "9.bias"):
        np.testing.assert_array_equal(initializers[key], to_numpy(state[key]))
    assert [i.name for i in proto.graph.input] == ["input"] and [o.name for o in proto.graph.output] == [
        "output"
    ]


def test_export_params_false_makes_parameters_inputs():
    ours, _ = _pair(mlp)
    data = _export(ours, [np.ones((2, 4), np.float32)], export_params=False)
    proto = onnx.load_from_string(data)
    inputs = [i.name for i in proto.graph.input]
    assert inputs[0] == "input" and "0.weight" in inputs and "10.bias" in inputs
    assert not any(i.name.endswith("weight") for i in proto.graph.initializer)
    feed = {"input": np.ones((2, 4), np.float32)}
    feed.update({k: to_numpy(v) for k, v in ours.state_dict().items() if k in inputs})
    np.testing.assert_allclose(
        _session(data).run(None, feed)[0], _run_ours(ours, [feed["input"]])[0], rtol=1e-5
    )


def test_dynamic_axes_are_symbolic_in_the_file():
    ours, _ = _pair(mlp)
    data = _export(
        ours, [np.ones((2, 4), np.float32)], input_names=["x"], output_names=["y"],
        dynamic_axes={"x": {0: "batch"}, "y": [0]},
    )  # fmt: skip
    proto = onnx.load_from_string(data)
    assert [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim] == [
        "batch",
        4,
    ]
    out_dims = proto.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in out_dims] == ["y_dynamic_axes_1", 3]


def test_lstm_with_initial_state_and_all_outputs():
    ours, theirs = _pair(recurrent("LSTM", num_layers=2))
    rng = np.random.default_rng(1)
    x, h0, c0 = (rng.standard_normal(s).astype(np.float32) for s in ((4, 2, 3), (2, 2, 5), (2, 2, 5)))
    buf = io.BytesIO()
    chainrule.onnx.export(
        ours, (chainrule.tensor(x), (chainrule.tensor(h0), chainrule.tensor(c0))), buf,
        input_names=["x", "h0", "c0"], output_names=["y", "hn", "cn"],
        dynamic_axes={"x": [0, 1], "h0": [1], "c0": [1]},
    )  # fmt: skip
    session = _session(buf.getvalue())
    for seq, batch in ((4, 2), (6, 3)):
        x, h0, c0 = (
            rng.standard_normal(s).astype(np.float32) for s in ((seq, batch, 3), (2, batch, 5), (2, batch, 5))
        )
        got = session.run(None, {"x": x, "h0": h0, "c0": c0})
        with torch.no_grad():
            y, (hn, cn) = theirs(torch.from_numpy(x), (torch.from_numpy(h0), torch.from_numpy(c0)))
        for g, e in zip(got, (y, hn, cn)):
            np.testing.assert_allclose(g, e.numpy(), rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("opset", [14, 17, 18, 21])
@pytest.mark.parametrize("builder", [mlp, cnn2d, encoder_stack], ids=["mlp", "cnn2d", "encoder_stack"])
def test_other_opsets(builder, opset):
    ours, theirs = _pair(builder)
    shape = {mlp: (3, 4), cnn2d: (3, 3, 8, 8), encoder_stack: (3, 5, 8)}[builder]
    x = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    data = _export(ours, [x], opset_version=opset)
    assert onnx.load_from_string(data).opset_import[0].version == opset
    np.testing.assert_allclose(
        _session(data).run(None, {"input": x})[0], _run_torch(theirs, [x])[0], rtol=1e-5, atol=2e-6
    )


def test_opset_13_writes_layer_norm_and_gelu_as_primitives():
    ours, theirs = _pair(encoder_stack)
    x = np.random.default_rng(2).standard_normal((2, 5, 8)).astype(np.float32)
    data = _export(ours, [x], opset_version=13)
    proto = onnx.load_from_string(data)
    assert proto.opset_import[0].version == 13
    assert "LayerNormalization" not in {n.op_type for n in proto.graph.node}
    np.testing.assert_allclose(
        _session(data).run(None, {"input": x})[0], _run_torch(theirs, [x])[0], rtol=1e-5, atol=2e-6
    )


def test_writes_a_path_atomically(tmp_path):
    ours, _ = _pair(mlp)
    path = tmp_path / "model.onnx"
    path.write_bytes(b"old contents")
    chainrule.onnx.export(ours, chainrule.ones(2, 4), str(path))
    assert os.listdir(tmp_path) == ["model.onnx"]  # no temporary file left behind
    onnx.checker.check_model(onnx.load(str(path)))
    chainrule.onnx.export(ours, (chainrule.ones(2, 4),), path)  # a PathLike too
    onnx.checker.check_model(onnx.load(str(path)))


def test_failed_export_leaves_the_old_file(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"old contents")
    with pytest.raises(chainrule.onnx.UnsupportedOperatorError):
        chainrule.onnx.export(lambda x: chainrule.cumsum(x, 0), chainrule.ones(3), str(path))
    assert path.read_bytes() == b"old contents" and os.listdir(tmp_path) == ["model.onnx"]


def test_unsupported_op_raises_naming_it():
    class Cumulative(chainrule.nn.Module):
        def forward(self, x):
            return chainrule.cumsum(x, 1) * 2

    with pytest.raises(chainrule.onnx.UnsupportedOperatorError, match="'cumsum'") as info:
        chainrule.onnx.export(Cumulative(), chainrule.ones(2, 3), io.BytesIO())
    assert isinstance(info.value, RuntimeError)


def test_unsupported_module_configuration_raises():
    model = chainrule.nn.LSTM(3, 5, proj_size=2)
    with pytest.raises(chainrule.onnx.UnsupportedOperatorError, match="proj_size"):
        chainrule.onnx.export(model, chainrule.ones(4, 2, 3), io.BytesIO())


def test_a_value_computed_outside_the_graph_is_refused_not_baked_in():
    class Masked(chainrule.nn.Module):
        def forward(self, x):
            return x * (x > 0).float()  # the mask comes from a comparison: no node records it

    with pytest.raises(chainrule.onnx.OnnxExporterError, match="wrong constant"):
        chainrule.onnx.export(Masked(), chainrule.tensor([[1.0, -2.0, 3.0], [-4.0, 5.0, 6.0]]), io.BytesIO())


def test_random_values_in_forward_are_refused():
    class Noisy(chainrule.nn.Module):
        def forward(self, x):
            return chainrule.nn.functional.dropout(x, 0.5, training=True)

    with pytest.raises(chainrule.onnx.OnnxExporterError, match="random numbers"):
        chainrule.onnx.export(Noisy(), chainrule.randn(4, 5), io.BytesIO())


def test_mode_and_flags_are_restored_and_export_flag_is_seen():
    seen = []

    class Probe(chainrule.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = chainrule.nn.Linear(2, 2)

        def forward(self, x):
            seen.append((chainrule.onnx.is_in_onnx_export(), self.training))
            return self.fc(x)

    model = Probe()
    model.fc.weight.requires_grad_(False)
    chainrule.onnx.export(model, chainrule.ones(1, 2), io.BytesIO())
    assert seen and all(s == (True, False) for s in seen)
    assert model.training and not model.fc.weight.requires_grad and model.fc.bias.requires_grad
    assert not chainrule.onnx.is_in_onnx_export()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(opset_version=7), ValueError, "opset_version=7"),
        (dict(dynamo=True), chainrule.onnx.OnnxExporterError, "dynamo"),
        (dict(input_names=["a", "b"]), ValueError, "input_names"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        chainrule.onnx.export(chainrule.nn.Linear(2, 2), chainrule.ones(1, 2), io.BytesIO(), **kwargs)


def test_text_file_is_refused(tmp_path):
    with open(tmp_path / "m.onnx", "w") as f, pytest.raises(TypeError, match="binary"):
        chainrule.onnx.export(chainrule.nn.Linear(2, 2), chainrule.ones(1, 2), f)


def test_keyword_arguments_and_training_mode_leave_no_trace():
    class Scaled(chainrule.nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = chainrule.nn.BatchNorm1d(3)

        def forward(self, x, *, scale):
            return self.norm(x) * scale

    model = Scaled()
    x, scale = np.random.default_rng(3).standard_normal((2, 4, 3)).astype(np.float32)
    before = {k: to_numpy(v).copy() for k, v in model.state_dict().items()}
    buf = io.BytesIO()
    chainrule.onnx.export(
        model, (chainrule.tensor(x), {"scale": chainrule.tensor(scale)}), buf,
        training=chainrule.onnx.TrainingMode.TRAINING, input_names=["x", "scale"],
    )  # fmt: skip
    for k, v in model.state_dict().items():  # the two traced runs did not move the running statistics
        np.testing.assert_array_equal(to_numpy(v), before[k])
    got = _session(buf.getvalue()).run(None, {"x": x, "scale": scale})[0]
    theirs = torch.nn.BatchNorm1d(3).train()
    np.testing.assert_allclose(
        got, (theirs(torch.from_numpy(x)) * torch.from_numpy(scale)).detach().numpy(), rtol=1e-5, atol=2e-6
    )


def test_the_model_may_change_its_inputs_in_place():
    class InPlace(chainrule.nn.Module):
        def forward(self, x):
            x.mul_(2)
            x[:, 0] = 0.0
            return x.relu_() + 1

    x = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], np.float32)
    data = _export(InPlace(), [x])
    expected = np.maximum(x * 2, 0) + 1
    expected[:, 0] = 1
    np.testing.assert_allclose(_session(data).run(None, {"input": x})[0], expected)


def test_unknown_keyword_is_a_type_error_and_unsupported_options_warn():
    model, x = chainrule.nn.Linear(2, 2), chainrule.ones(1, 2)
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        chainrule.onnx.export(model, x, io.BytesIO(), colour=1)
    with pytest.warns(UserWarning, match="custom_opsets"):
        chainrule.onnx.export(model, x, io.BytesIO(), custom_opsets={"x": 1})


def test_slices_from_the_end_follow_a_dynamic_axis():
    def head_and_tail(x):
        return x[:, :-1] * 2, x[:, -1], x[:, 1::2] + 1

    x = np.arange(12, dtype=np.float32).reshape(2, 6)
    session = _session(_export(head_and_tail, [x], input_names=["x"], dynamic_axes={"x": [0, 1]}))
    for shape in ((2, 6), (3, 9), (1, 2)):
        x = np.random.default_rng(5).standard_normal(shape).astype(np.float32)
        got = session.run(None, {"x": x})
        for g, e in zip(got, (x[:, :-1] * 2, x[:, -1], x[:, 1::2] + 1)):
            np.testing.assert_allclose(g, e, rtol=1e-6)


@pytest.mark.parametrize("stop", [lambda n: n - 1, lambda n: n // 2], ids=["n-1", "n//2"])
def test_an_index_computed_from_a_dynamic_size_is_refused(stop):
    def first_part(x):
        return x[:, : stop(x.size(1))] * 1

    with pytest.raises(chainrule.onnx.OnnxExporterError, match="getitem"):
        chainrule.onnx.export(first_part, chainrule.ones(2, 6), io.BytesIO(), input_names=["x"],
                              dynamic_axes={"x": [1]})  # fmt: skip


def test_initial_state_given_by_keyword():
    ours, theirs = _pair(recurrent("GRU"))

    class Wrapper(chainrule.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = ours

        def forward(self, x, h):
            return self.rnn(x, hx=h)[1]

    rng = np.random.default_rng(6)
    x, h = (
        rng.standard_normal((4, 2, 3)).astype(np.float32),
        rng.standard_normal((1, 2, 5)).astype(np.float32),
    )
    got = _session(_export(Wrapper(), [x, h], input_names=["x", "h"])).run(None, {"x": x, "h": h})[0]
    with torch.no_grad():
        np.testing.assert_allclose(
            got, theirs(torch.from_numpy(x), torch.from_numpy(h))[1].numpy(), rtol=1e-5, atol=2e-6
        )


def test_packed_sequences_are_refused():
    lstm = chainrule.nn.LSTM(3, 4)

    class Packed(chainrule.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = lstm

        def forward(self, x):
            packed = chainrule.nn.utils.rnn.pack_padded_sequence(x, [3, 2])
            return self.lstm(packed)[1][0]

    with pytest.raises(chainrule.onnx.UnsupportedOperatorError, match="LSTM on a PackedSequence"):
        chainrule.onnx.export(Packed(), chainrule.ones(3, 2, 3), io.BytesIO())
