"""tools.py campaign: a run cut by a session's end continues — exactly on the same machine, from the committed
light state on a new one."""

import json
import shutil

import torch

from conftest import run_tool, run_train
from test_train import history, same_metrics


def campaign(state, run, data, *extra):
    return run_tool(["campaign", "--preset", "tiny", "--data", data, "--state", state, "--run", run, *extra])


def test_campaign_continues_on_the_same_machine_exactly_and_on_a_new_one_from_the_light_state(tiny_fer, tmp_path):
    full, state, run = tmp_path / "full", tmp_path / "repo_state", tmp_path / "cache_run"
    run_train(["--preset", "tiny", "--data", tiny_fer, "--out", full])

    p = campaign(state, run, tiny_fer, "--minutes", "0.0001")  # the session's time runs out after epoch 1
    assert "a new run" in p.stdout and "saved the state after epoch 1" in p.stdout
    committed = torch.load(state / "state.pt", weights_only=False)
    assert committed["epoch"] == 1 and committed["optimizer"]["state"] == {}
    assert all(v.dtype == torch.float16 for v in committed["model"].values() if v.is_floating_point())
    assert (state / "state.pt").stat().st_size < 0.4 * (run / "ckpt.pt").stat().st_size
    assert not (state / "ckpt.pt").exists() and len(history(state)) == 1
    assert "out" not in committed["config"] and "out" not in json.loads((state / "config.json").read_text())

    # the same machine comes back: the cache is level with the state and continues exactly
    same_machine, same_state = tmp_path / "same_machine_run", tmp_path / "same_state"
    shutil.copytree(run, same_machine)
    shutil.copytree(state, same_state)
    p = campaign(same_state, same_machine, tiny_fer)
    assert "continuing after epoch 1 (cache state)" in p.stdout
    same_metrics(history(full), history(same_machine))
    a = torch.load(full / "ckpt.pt", weights_only=False)["model"]
    b = torch.load(same_machine / "ckpt.pt", weights_only=False)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)

    # a new machine: no cache; it continues from the committed fp16 weights where the schedule stands
    shutil.rmtree(run)
    p = campaign(state, run, tiny_fer)
    assert "continuing after epoch 1 (committed state)" in p.stdout and "moments start again" in p.stdout
    assert "saved the state after epoch 2" in p.stdout
    rows = history(state)
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    same_metrics(history(full)[:1], rows[:1])
    assert float(rows[1]["lr"]) == float(history(full)[1]["lr"])  # the schedule went on from where it stood
    after = torch.load(run / "ckpt.pt", weights_only=False)["model"]
    assert any(not torch.equal(after[k].half(), committed["model"][k]) for k in after if after[k].is_floating_point())
    assert (run / "best.pt").exists() and (run / "eval_val.json").exists()


def test_campaign_save_without_a_run_says_so(tmp_path):
    p = run_tool(["campaign", "--save", "--state", tmp_path / "s", "--run", tmp_path / "nothing"], check=False)
    assert p.returncode != 0 and "no checkpoint" in p.stderr


def test_extract_writes_the_newest_weights_in_float_for_export(tmp_path):
    from emoji_train import campaign as C
    from emoji_train.models import build_model, load_checkpoint_model

    state, run = tmp_path / "state", tmp_path / "run"
    state.mkdir()
    model, ema = build_model("alexnet-48", 7, 0.3).state_dict(), build_model("alexnet-48", 7, 0.3).state_dict()
    config = {"arch": "alexnet-48", "dropout": 0.3, "contract": "models/preprocess.json", "out": "/somewhere"}
    light = {"model": {k: v.half() if v.is_floating_point() else v for k, v in model.items()},
             "ema": {k: v.half() if v.is_floating_point() else v for k, v in ema.items()},
             "epoch": 7, "config": config, "optimizer": {"state": {}, "param_groups": []}}
    torch.save(light, state / "state.pt")

    # a new machine: only the committed state; its EMA comes out in float32 and loads as a model
    out = tmp_path / "ema.pt"
    p = run_tool(["campaign", "--state", state, "--run", run, "--extract", "ema", "--to", out])
    assert "wrote the ema weights after epoch 7" in p.stdout
    net, ck = load_checkpoint_model(out)
    assert ck["epoch"] == 7 and ck["weights"] == "ema" and "out" not in ck["config"]
    got = net.state_dict()
    assert all(got[k].dtype == torch.float32 and torch.equal(got[k], ema[k].half().float())
               for k in ema if ema[k].is_floating_point())

    # the cache further on wins; a checkpoint without an EMA says so
    run.mkdir()
    torch.save(dict(light, epoch=9, ema=None), run / "ckpt.pt")
    assert C.newest(state, run) == run / "ckpt.pt"
    p = run_tool(["campaign", "--state", state, "--run", run, "--extract", "ema", "--to", out], check=False)
    assert p.returncode != 0 and "no 'ema' weights" in p.stderr
    assert C.extract(state, run, "model", tmp_path / "model.pt") == 9
