"""chainrule.utils.tensorboard against torch.utils.tensorboard: the same calls, made with chainrule
values in one directory and with torch values in another, must read back (through tensorboard's own
event reader) as the same events: tags, steps, values, histogram buckets, PNG bytes, text, hparams."""

import glob
import os
import re
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("tensorboard")
torch = pytest.importorskip("torch")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader  # noqa: E402
from tensorboard.compat.proto.graph_pb2 import GraphDef  # noqa: E402
from torch.utils.tensorboard import SummaryWriter as TorchWriter  # noqa: E402

import chainrule  # noqa: E402
import chainrule.utils.tensorboard  # noqa: E402
from chainrule.utils.tensorboard import SummaryWriter  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_events(logdir) -> dict[str, list]:
    """Every event under ``logdir``, by run sub-directory, wall times zeroed (they differ by when
    each run wrote), file-version headers dropped."""
    runs: dict[str, list] = {}
    for path in sorted(glob.glob(os.path.join(str(logdir), "**", "events.out.tfevents.*"), recursive=True)):
        run = os.path.relpath(os.path.dirname(path), str(logdir))
        for event in LegacyEventFileLoader(path).Load():
            if event.HasField("file_version"):
                continue
            event.wall_time = 0
            runs.setdefault(run, []).append(event)
    return runs


def log_both(tmp_path, write):
    """Call ``write(writer, lib)`` with a chainrule writer (lib = chainrule) and a torch writer (lib =
    torch), each in its own directory; return both directories."""
    ours, theirs = tmp_path / "chainrule", tmp_path / "torch"
    with chainrule.utils.tensorboard.SummaryWriter(str(ours)) as writer:
        write(writer, chainrule)
    with TorchWriter(str(theirs)) as writer:
        write(writer, torch)
    return ours, theirs


def assert_same_events(tmp_path, write):
    ours, theirs = log_both(tmp_path, write)
    ours_events, theirs_events = read_events(ours), read_events(theirs)
    assert sorted(ours_events) == sorted(theirs_events)
    for run in theirs_events:
        assert len(ours_events[run]) == len(theirs_events[run]), run
        for mine, reference in zip(ours_events[run], theirs_events[run], strict=True):
            # the serialized bytes: message equality says NaN != NaN in some protobuf releases
            assert mine.SerializeToString(deterministic=True) == reference.SerializeToString(
                deterministic=True
            ), f"{mine} != {reference}"
    return ours, theirs


def accumulate(logdir) -> EventAccumulator:
    keep_all = {"images": 0, "histograms": 0, "scalars": 0, "tensors": 0, "audio": 0}
    accumulator = EventAccumulator(str(logdir), size_guidance=keep_all)
    accumulator.Reload()
    return accumulator


RNG = np.random.default_rng(0)


# ---- scalars ----
def test_scalars_from_tensors_arrays_and_numbers(tmp_path):
    def write(w, lib):
        w.add_scalar("loss", lib.tensor(0.25), 0)
        w.add_scalar("loss", lib.tensor([0.125], dtype=lib.float64), 1)  # one element, any shape
        w.add_scalar("loss", np.float32(0.1), 2)
        w.add_scalar("loss", 3, 3)
        w.add_scalar("loss", 2.5, global_step=lib.tensor(4))  # a tensor step
        w.add_scalar("acc", np.array([[0.5]]), 7, walltime=123.0)
        w.add_scalar("int", lib.tensor(5), 0)
        w.add_scalar("flag", lib.tensor(True), 0)
        w.add_scalar("nan", float("nan"), 0)
        w.add_scalar("inf", lib.tensor(float("-inf")), 0)
        w.add_scalar("new", lib.tensor(1.0 / 3), 0, new_style=True)
        w.add_scalar(
            "new64", lib.tensor(1.0 / 3, dtype=lib.float64), 0, new_style=True, double_precision=True
        )
        w.add_scalar("nostep", 1.0)
        w.add_scalar("grad", lib.tensor(0.5, requires_grad=True) * 3, 0)

    ours, _ = assert_same_events(tmp_path, write)
    scalars = accumulate(ours).Scalars("loss")
    assert [s.step for s in scalars] == [0, 1, 2, 3, 4]
    np.testing.assert_allclose([s.value for s in scalars], [0.25, 0.125, 0.1, 3, 2.5], rtol=1e-7)
    assert accumulate(ours).Scalars("acc")[0].wall_time == 123.0


def test_scalar_walltime_is_recorded(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        w.add_scalar("x", 1.0, 0, walltime=42.5)
        w.add_scalar("x", 2.0, 1)
    walls = [s.wall_time for s in accumulate(tmp_path).Scalars("x")]
    assert walls[0] == 42.5 and walls[1] > 1e9


def test_scalars_one_run_per_tag(tmp_path):
    def write(w, lib):
        for step in range(3):
            w.add_scalars(
                "run/14h", {"xsinx": lib.tensor(step * 0.5), "xcosx": np.float64(step), "n": step}, step
            )

    ours, _ = assert_same_events(tmp_path, write)
    assert sorted(os.listdir(ours)) == sorted(
        ["run_14h_xsinx", "run_14h_xcosx", "run_14h_n"]
        + [f for f in os.listdir(ours) if f.startswith("events")]
    )


def test_scalar_of_many_values_raises_like_torch(tmp_path):
    with SummaryWriter(str(tmp_path / "a")) as w, pytest.raises(AssertionError, match="one element"):
        w.add_scalar("x", chainrule.ones(3))
    with TorchWriter(str(tmp_path / "b")) as w, pytest.raises(AssertionError):
        w.add_scalar("x", torch.ones(3))


def test_unsupported_value_type_raises_like_torch(tmp_path):
    with SummaryWriter(str(tmp_path / "a")) as w, pytest.raises(NotImplementedError, match="list"):
        w.add_histogram("x", [1.0, 2.0])
    with TorchWriter(str(tmp_path / "b")) as w, pytest.raises(NotImplementedError):
        w.add_histogram("x", [1.0, 2.0])


# ---- histograms ----
@pytest.mark.parametrize("bins", ["tensorflow", "auto", "fd", "doane", 10, [-3.0, -1.0, 0.0, 0.5, 4.0]])
def test_histogram_buckets(tmp_path, bins):
    values = RNG.standard_normal((40, 25)).astype(np.float32)

    def write(w, lib):
        w.add_histogram("weights", lib.tensor(values), 0, bins=bins)
        w.add_histogram("weights", lib.tensor(values).t() * 2, 1, bins=bins)  # a transposed view
        w.add_histogram("weights", values[::3, 1:] - 1, 2, bins=bins)  # a strided array

    ours, _ = assert_same_events(tmp_path, write)
    histograms = accumulate(ours).Histograms("weights")
    assert [h.step for h in histograms] == [0, 1, 2]
    assert histograms[0].histogram_value.num == values.size


def test_histogram_max_bins_and_odd_inputs(tmp_path):
    values = RNG.standard_normal(1000)

    def write(w, lib):
        w.add_histogram("max_bins", lib.tensor(values), 0, bins="auto", max_bins=7)
        w.add_histogram("max_bins_tf", lib.tensor(values), 0, max_bins=30)
        w.add_histogram("ints", lib.arange(-5, 20), 0)
        w.add_histogram("bools", lib.tensor([True, False, True]), 0)
        w.add_histogram("zero_d", lib.tensor(3.5), 0)
        w.add_histogram("one", lib.tensor([0.0]), 0)
        w.add_histogram("constant", lib.full((5, 1), 2.0), 0, bins="auto")
        w.add_histogram("float16", lib.tensor(values[:50], dtype=lib.float16), 0)
        w.add_histogram("bfloat16", lib.tensor(values[:50], dtype=lib.bfloat16), 0)
        w.add_histogram("number", 7, 0)
        w.add_histogram("nan", lib.tensor([1.0, float("nan"), 2.0]), 0)
        w.add_histogram("inf", lib.tensor([float("inf"), 1.0]), 0)
        w.add_histogram("requires_grad", lib.tensor(values[:9], requires_grad=True) * 2, 0)

    assert_same_events(tmp_path, write)


def test_histogram_raw(tmp_path):
    def write(w, lib):
        w.add_histogram_raw("raw", -1.0, 3.0, 10, 6.0, 20.0, [0.0, 1.0, 3.0], [2, 5, 3], global_step=4)

    assert_same_events(tmp_path, write)
    with SummaryWriter(str(tmp_path / "bad")) as w, pytest.raises(ValueError, match="bucket_limits"):
        w.add_histogram_raw("raw", 0, 1, 2, 1, 1, [0.0, 1.0], [2])


def test_empty_histogram_raises_like_torch(tmp_path):
    with SummaryWriter(str(tmp_path / "a")) as w, pytest.raises(ValueError, match="no element"):
        w.add_histogram("x", chainrule.zeros(0))
    with TorchWriter(str(tmp_path / "b")) as w, pytest.raises(ValueError):
        w.add_histogram("x", torch.zeros(0))
    # no value inside TensorFlow's bins (|x| > 1e20): both refuse
    with SummaryWriter(str(tmp_path / "c")) as w, pytest.raises(ValueError, match="bins='auto'"):
        w.add_histogram("x", chainrule.tensor([1e30]))
    with TorchWriter(str(tmp_path / "d")) as w, pytest.raises(ValueError):
        w.add_histogram("x", torch.tensor([1e30]))


# ---- images ----
def test_images_layouts_and_dtypes(tmp_path):
    chw = RNG.random((3, 9, 7)).astype(np.float32)
    uint8_hwc = RNG.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    rgba, batch = RNG.random((4, 5, 5)), RNG.random((11, 3, 4, 6))
    gray_batch, nhwc = RNG.random((3, 1, 4, 4)).astype(np.float32), RNG.random((2, 4, 4, 3))

    def write(w, lib):
        w.add_image("chw", lib.tensor(chw), 0)
        w.add_image("hwc", lib.tensor(chw).permute(1, 2, 0), 0, dataformats="HWC")  # non-contiguous
        w.add_image("hw", lib.tensor(chw[0], dtype=lib.float64), 0, dataformats="HW")
        w.add_image("wh", chw[0], 0, dataformats="WH")
        w.add_image("gray", lib.tensor(chw[:1]), 0)
        w.add_image("rgba", lib.tensor(rgba), 0)
        w.add_image("uint8", lib.tensor(uint8_hwc), 0, dataformats="HWC")
        w.add_image("uint8_np", uint8_hwc, 1, dataformats="HWC")
        w.add_image("clipped", lib.tensor(chw * 3 - 1), 0)  # beyond [0, 1]: clipped
        w.add_image("one_pixel", lib.ones(3, 1, 1), 0)
        w.add_images("batch", lib.tensor(batch), 0)  # 2 rows of 8, 5 blank
        w.add_images("batch_gray", lib.tensor(gray_batch), 0)
        w.add_images("nhwc", lib.tensor(nhwc), 0, dataformats="NHWC")

    ours, _ = assert_same_events(tmp_path, write)
    images = accumulate(ours)
    assert (images.Images("chw")[0].height, images.Images("chw")[0].width) == (9, 7)
    assert (images.Images("batch")[0].height, images.Images("batch")[0].width) == (8, 48)


def test_image_layout_errors_raise_like_torch(tmp_path):
    for writer_class, lib, name in [(SummaryWriter, chainrule, "a"), (TorchWriter, torch, "b")]:
        with writer_class(str(tmp_path / name)) as w:
            with pytest.raises(AssertionError):
                w.add_image("x", lib.zeros(3, 4, 4), dataformats="HWCN")  # 4 letters, 3 dims
            with pytest.raises(AssertionError):
                w.add_image("x", lib.zeros(3, 4, 4), dataformats="CCW")
            with pytest.raises(AssertionError):
                w.add_images("x", lib.zeros(2, 2, 4, 4))  # 2 channels


def test_image_errors_are_value_errors_that_name_the_call(tmp_path):
    with SummaryWriter(str(tmp_path)) as w:
        with pytest.raises(ValueError, match=r"add_image: the image has 2 dims .* 'CHW'"):
            w.add_image("x", chainrule.zeros(4, 4))


def test_figure(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def figure():
        fig = plt.figure(figsize=(2, 1.5), dpi=50)
        plt.plot([0, 1, 2], [1, 0, 2])
        return fig

    def write(w, lib):
        w.add_figure("one", figure(), 0)
        w.add_figure("many", [figure(), figure()], 1)

    ours, _ = assert_same_events(tmp_path, write)
    assert accumulate(ours).Images("one")[0].width == 100
    assert plt.get_fignums() == []  # close=True closed them


# ---- text, audio, tensors, custom scalars, pr curves ----
def test_text_audio_tensor_and_layout(tmp_path):
    clip = np.sin(np.linspace(0, 20, 400))
    values = RNG.standard_normal((2, 3)).astype(np.float32)

    def write(w, lib):
        w.add_text("notes", "**lr** = 0.1, ünïcode", 0)
        w.add_text("notes", "", 1)
        w.add_audio("sound", lib.tensor(clip), 0, sample_rate=8000)
        w.add_tensor("t32", lib.tensor(values), 0)
        w.add_tensor("t64", lib.tensor(values, dtype=lib.float64), 0)
        w.add_tensor("ints", lib.tensor([[1, 2], [3, 4]]), 0)
        w.add_tensor("bools", lib.tensor([True, False]), 0)
        w.add_tensor("half", lib.tensor(values, dtype=lib.float16), 0)
        w.add_custom_scalars(
            {"losses": {"both": ["Multiline", ["loss/.*"]], "band": ["Margin", ["m", "lo", "hi"]]}}
        )
        w.add_custom_scalars_multilinechart(["a", "b"], category="c", title="t")
        w.add_custom_scalars_marginchart(["a", "b", "c"])

    ours, _ = assert_same_events(tmp_path, write)
    texts = accumulate(ours).Tensors("notes/text_summary")
    assert texts[0].tensor_proto.string_val[0].decode() == "**lr** = 0.1, ünïcode"


def test_pr_curves(tmp_path):
    labels = RNG.integers(0, 2, 100)
    predictions = RNG.random(100).astype(np.float32)
    weights = RNG.random(100)

    def write(w, lib):
        w.add_pr_curve("pr", lib.tensor(labels), lib.tensor(predictions), 0)
        w.add_pr_curve("pr", labels.astype(bool), predictions.astype(np.float64), 1, num_thresholds=10)
        w.add_pr_curve(
            "weighted", lib.tensor(labels), lib.tensor(predictions), 0, num_thresholds=300, weights=weights
        )
        counts = [np.arange(5.0) + k for k in range(6)]
        w.add_pr_curve_raw("raw", *counts, global_step=2, num_thresholds=5)

    ours, _ = assert_same_events(tmp_path, write)
    assert [t.step for t in accumulate(ours).Tensors("pr")] == [0, 1]


# ---- hparams ----
def test_hparams(tmp_path):
    def write(w, lib):
        w.add_hparams(
            {
                "lr": 0.1,
                "batch": 32,
                "optim": "adam",
                "nesterov": True,
                "skipped": None,
                "decay": lib.tensor([0.5]),
            },
            {"hparam/accuracy": 0.9, "hparam/loss": lib.tensor(0.25)},
            hparam_domain_discrete={"optim": ["adam", "sgd"], "batch": [16, 32]},
            run_name="run0",
            global_step=3,
        )
        w.add_hparams({"lr": 0.2}, {"hparam/accuracy": 0.8}, run_name="run1")

    ours, _ = assert_same_events(tmp_path, write)
    assert set(read_events(ours)) == {"run0", "run1"}
    run = accumulate(ours / "run0")
    assert run.Scalars("hparam/accuracy")[0].step == 3
    plugin_content = run.PluginTagToContent("hparams")
    assert set(plugin_content) == {
        "_hparams_/experiment",
        "_hparams_/session_start_info",
        "_hparams_/session_end_info",
    }


def test_hparams_errors_like_torch(tmp_path):
    for writer_class, name in [(SummaryWriter, "a"), (TorchWriter, "b")]:
        with writer_class(str(tmp_path / name)) as w:
            with pytest.raises(TypeError):
                w.add_hparams([("lr", 0.1)], {"m": 1.0})
            with pytest.raises(TypeError):
                w.add_hparams({"lr": 0.1}, {"m": 1.0}, hparam_domain_discrete={"lr": [1, 2]})
            with pytest.raises(ValueError, match="int, float, str, bool"):
                w.add_hparams({"lr": [0.1]}, {"m": 1.0}, run_name="r")


# ---- embeddings ----
def test_embedding_files(tmp_path):
    points = RNG.standard_normal((6, 3)).astype(np.float32)
    thumbnails = RNG.random((6, 3, 4, 4)).astype(np.float32)

    def write(w, lib):
        w.add_embedding(
            lib.tensor(points), metadata=list("abcdef"), label_img=lib.tensor(thumbnails), tag="a/b"
        )
        w.add_embedding(
            points * 2,
            metadata=[[i, i % 2] for i in range(6)],
            metadata_header=["index", "parity"],
            global_step=5,
        )

    ours, theirs = log_both(tmp_path, write)
    found = sorted(os.path.relpath(p, ours) for p in glob.glob(str(ours / "**" / "*"), recursive=True))
    expected = sorted(os.path.relpath(p, theirs) for p in glob.glob(str(theirs / "**" / "*"), recursive=True))
    found = [p for p in found if "events.out" not in p]
    assert found == [p for p in expected if "events.out" not in p]
    for path in found:
        if os.path.isfile(ours / path):
            assert (ours / path).read_bytes() == (theirs / path).read_bytes(), path
    assert "00000/a%2fb/sprite.png" in found


# ---- graphs ----
class _Block(chainrule.nn.Module):
    def __init__(self, nn):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = nn.Tanh()

    def forward(self, x):
        return self.act(self.fc(x)) + x


def _graph_of(logdir) -> GraphDef:
    graphs = [
        e.graph_def for events in read_events(logdir).values() for e in events if e.HasField("graph_def")
    ]
    assert len(graphs) == 1
    return GraphDef.FromString(graphs[0])


@pytest.mark.filterwarnings("ignore:`torch.jit.trace:DeprecationWarning")
def test_graph_matches_torchs_ops_and_scopes(tmp_path):
    x = RNG.standard_normal((5, 3)).astype(np.float32)

    def write(w, lib):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
        model.train()
        w.add_graph(model, lib.tensor(x))
        assert model.training  # restored after the eval-mode pass

    ours, theirs = log_both(tmp_path, write)

    def ops(graph):
        return [(n.name.rpartition("/")[0], n.op) for n in graph.node if n.op.startswith("aten::")]

    assert (
        ops(_graph_of(ours))
        == ops(_graph_of(theirs))
        == [
            ("Sequential/Linear[0]", "aten::linear"),
            ("Sequential/ReLU[1]", "aten::relu"),
            ("Sequential/Linear[2]", "aten::linear"),
        ]
    )
    nodes = {n.name: n for n in _graph_of(ours).node}
    assert list(nodes["Sequential/Linear[0]/linear"].input) == [
        "input/input.1",
        "Sequential/Linear[0]/weight",
        "Sequential/Linear[0]/bias",
    ]
    assert list(nodes["output/output.1"].input) == ["Sequential/Linear[2]/linear"]
    assert [d.size for d in nodes["output/output.1"].attr["_output_shapes"].list.shape[0].dim] == [5, 2]
    assert [
        d.size for d in nodes["Sequential/Linear[0]/linear"].attr["_output_shapes"].list.shape[0].dim
    ] == [5, 4]
    run_metadata = [
        e for events in read_events(ours).values() for e in events if e.HasField("tagged_run_metadata")
    ]
    assert run_metadata[0].tagged_run_metadata.tag == "step1"
    assert accumulate(ours).Tags()["graph"]


def test_graph_nested_modules_and_two_inputs(tmp_path):
    nn = chainrule.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = _Block(nn)
            self.head = nn.Linear(4, 1)

        def forward(self, x, y):
            return self.head(self.block(x) * y), x.sum()

    with SummaryWriter(str(tmp_path)) as w:
        w.add_graph(Net(), (chainrule.randn(2, 4), chainrule.randn(2, 4)), verbose=False)
    nodes = {n.name: n for n in _graph_of(tmp_path).node}
    assert {"input/input.1", "input/input.2", "output/output.1", "output/output.2"} <= set(nodes)
    assert nodes["Net/_Block[block]/Linear[fc]/linear"].input[1] == "Net/_Block[block]/Linear[fc]/weight"
    assert nodes["Net/_Block[block]/Tanh[act]/tanh"].input[0] == "Net/_Block[block]/Linear[fc]/linear"
    add = nodes["Net/_Block[block]/add"]  # the residual sum happens in the block's own forward
    assert list(add.input) == ["Net/_Block[block]/Tanh[act]/tanh", "input/input.1"]
    assert nodes["Net/mul"].input[1] == "input/input.2"
    assert nodes["output/output.2"].input[0] == "Net/sum"


def test_graph_verbose_and_bad_model(tmp_path, capsys):
    with SummaryWriter(str(tmp_path)) as w:
        w.add_graph(chainrule.nn.Linear(2, 2), chainrule.ones(1, 2), verbose=True)
        assert "aten::linear(input/input.1, Linear/weight, Linear/bias)" in capsys.readouterr().out
        with pytest.raises(TypeError, match="nn.Module"):
            w.add_graph(lambda x: x, chainrule.ones(1))


# ---- files: log_dir, purge_step, suffix, flush, close ----
def test_default_log_dir_and_comment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ours = SummaryWriter(comment="_lr0.1")
    theirs = TorchWriter(comment="_lr0.1")
    ours.close()
    theirs.close()
    pattern = r"runs/[A-Z][a-z]{2}\d\d_\d\d-\d\d-\d\d_.+_lr0\.1"
    assert re.fullmatch(pattern, ours.get_logdir()) and re.fullmatch(pattern, theirs.get_logdir())
    assert ours.get_logdir().split("_", 2)[2] == theirs.get_logdir().split("_", 2)[2]  # host + comment
    assert os.path.isdir(ours.get_logdir())


def test_purge_step_events_match_torch(tmp_path):
    def write(w, lib):
        w.add_scalar("x", 1.0, 10)

    ours, theirs = tmp_path / "a", tmp_path / "b"
    with SummaryWriter(str(ours), purge_step=7) as w:
        write(w, chainrule)
    with TorchWriter(str(theirs), purge_step=7) as w:
        write(w, torch)
    assert read_events(ours) == read_events(theirs)
    first = read_events(ours)["."][0]
    assert first.step == 7 and first.session_log.status == first.session_log.START


def test_filename_suffix_queue_flush_and_close(tmp_path):
    writer = SummaryWriter(str(tmp_path), max_queue=1000, flush_secs=1000, filename_suffix=".mine")
    [path] = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    assert path.endswith(".mine")
    writer.add_scalar("x", 1.0, 0)
    writer.flush()
    assert [s.value for s in accumulate(tmp_path).Scalars("x")] == [1.0]
    writer.close()
    writer.close()  # a second close does nothing
    writer.add_scalar("x", 2.0, 1)  # after close: a new event file
    writer.close()
    assert len(glob.glob(str(tmp_path / "events.out.tfevents.*"))) == 2
    assert [s.value for s in accumulate(tmp_path).Scalars("x")] == [1.0, 2.0]


def test_pathlike_log_dir_and_context_manager(tmp_path):
    with SummaryWriter(tmp_path / "run") as writer:
        writer.add_text("t", "x")
    assert writer.all_writers is None
    assert accumulate(tmp_path / "run").Tags()["tensors"] == ["t/text_summary"]


def test_video_is_not_supported(tmp_path):
    with SummaryWriter(str(tmp_path)) as w, pytest.raises(NotImplementedError, match="add_images"):
        w.add_video("v", chainrule.zeros(1, 2, 3, 4, 4))


def test_missing_tensorboard_names_the_extra():
    code = (
        "import sys; sys.modules['tensorboard'] = None\n"
        "try:\n"
        "    import chainrule.utils.tensorboard\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.path.join(ROOT, "src")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert "pip install 'chainrule[tensorboard]'" in out.stdout


def test_file_writer_and_record_writer(tmp_path):
    """The lower-level names torch.utils.tensorboard exports: FileWriter (one event file) and
    tensorboard's own RecordWriter."""
    import torch.utils.tensorboard as torch_tensorboard
    from tensorboard.compat.proto.summary_pb2 import Summary

    assert chainrule.utils.tensorboard.RecordWriter is torch_tensorboard.RecordWriter
    for name, module in [("a", chainrule.utils.tensorboard), ("b", torch_tensorboard)]:
        writer = module.FileWriter(str(tmp_path / name), filename_suffix=".x")
        writer.add_summary(Summary(value=[Summary.Value(tag="s", simple_value=2.0)]), global_step=3)
        writer.flush()
        writer.close()
        assert writer.get_logdir() == str(tmp_path / name)
    assert read_events(tmp_path / "a") == read_events(tmp_path / "b")
    assert [s.step for s in accumulate(tmp_path / "a").Scalars("s")] == [3]


def test_graph_integer_inputs_enter_without_edges(tmp_path):
    nn = chainrule.nn
    model = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 2))
    with SummaryWriter(str(tmp_path)) as w:
        w.add_graph(model, chainrule.tensor([[1, 2, 3]]))
    nodes = {n.name: n for n in _graph_of(tmp_path).node}
    assert [d.size for d in nodes["input/input.1"].attr["_output_shapes"].list.shape[0].dim] == [1, 3]
    assert list(nodes["Sequential/Embedding[0]/embedding"].input) == ["Sequential/Embedding[0]/weight"]
    assert nodes["Sequential/Linear[1]/linear"].input[0] == "Sequential/Embedding[0]/embedding"
