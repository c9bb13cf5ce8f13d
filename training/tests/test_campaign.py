"""tools.py campaign: a run cut by a session's end continues on a new machine from the committed state, exactly."""

import shutil

import torch

from conftest import run_tool, run_train
from test_train import history, same_metrics


def campaign(state, run, data, *extra):
    return run_tool(["campaign", "--preset", "tiny", "--data", data, "--state", state, "--run", run, *extra])


def test_campaign_continues_from_the_committed_state_on_a_new_machine(tiny_fer, tmp_path):
    full, state, run = tmp_path / "full", tmp_path / "repo_state", tmp_path / "cache_run"
    run_train(["--preset", "tiny", "--data", tiny_fer, "--out", full])

    p = campaign(state, run, tiny_fer, "--minutes", "0.0001")  # the session's time runs out after epoch 1
    assert "a new run" in p.stdout and "saved the state after epoch 1" in p.stdout
    assert torch.load(state / "ckpt.pt", weights_only=False)["epoch"] == 1
    assert len(history(state)) == 1

    shutil.rmtree(run)  # the next session is on a new machine: no cache
    p = campaign(state, run, tiny_fer, "--minutes", "0.0001")
    assert "continuing after epoch 1 (committed state)" in p.stdout
    assert "saved the state after epoch 2" in p.stdout

    p = campaign(state, run, tiny_fer)  # the same machine comes back: the cache is level with the state
    assert "continuing after epoch 2 (cache state)" in p.stdout

    # three sessions give the run that one uninterrupted session gives
    same_metrics(history(full), history(run))
    same_metrics(history(full), history(state))
    a = torch.load(full / "ckpt.pt", weights_only=False)["model"]
    b = torch.load(state / "ckpt.pt", weights_only=False)["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert (run / "best.pt").exists() and (run / "eval_val.json").exists()


def test_campaign_save_without_a_run_says_so(tmp_path):
    p = run_tool(["campaign", "--save", "--state", tmp_path / "s", "--run", tmp_path / "nothing"], check=False)
    assert p.returncode != 0 and "no checkpoint" in p.stderr
