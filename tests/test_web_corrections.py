"""Corrections through the JSON API and Control's forms: the happy paths and every refusal as a 400 sentence."""

import re

import pytest
from helpers import athlete_id, error, form, page_error, post, run_once

from gatectl.store import Store

BALL_S = -1.5  # a crossing of M1 set aside, 1.5 s before the athlete's


@pytest.fixture
def flying(gates, daemon):
    """A flying 30 with a lone crossing of M1 before it; the complete run as the API shows it."""
    run_once(gates, daemon, extra=[("M1", BALL_S)])
    return daemon.snapshot().session_id


def complete(client, session_id):
    return [r for r in client.get(f"/api/runs?session={session_id}&status=complete").get_json()["runs"]]


def opened(client, run_id):
    response = client.get(f"/api/runs/{run_id}/crossings")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_open_a_run_lists_its_crossings_those_set_aside_near_it_and_no_history(client, flying):
    (run,) = complete(client, flying)
    panel = opened(client, run["id"])
    assert panel["run"]["id"] == run["id"]
    assert [(c["gate"], c["from_start_s"]) for c in panel["crossings"]] == [("M1", 0.0), ("M2", 3.5), ("M3", 6.6)]
    assert [c["key"] for c in panel["crossings"]] == [f"{g}@{t}" for g, t in run["crossings"].items()]
    ((aside),) = panel["nearby"]
    assert (aside["gate"], aside["from_start_s"]) == ("M1", BALL_S) and aside["reason"]
    assert (panel["history"], panel["previous"], panel["next"], panel["correctable"]) == ([], None, None, True)


def test_drop_attach_and_undo_through_the_api(coach, flying):
    (run,) = complete(coach, flying)
    panel = opened(coach, run["id"])
    m1, aside = panel["crossings"][0]["key"], panel["nearby"][0]["key"]
    dropped = post(coach, f"/api/runs/{run['id']}/corrections", {"kind": "drop-crossing", "crossing": m1})
    assert dropped.status_code == 201, dropped.get_data(as_text=True)
    body = dropped.get_json()
    assert [c["gate"] for c in body["crossings"]] == ["M2", "M3"]
    assert body["run"]["fly"]["time_s"] == run["fly"]["time_s"] and body["run"]["unseen"] == ["M1"]
    (entry,) = body["history"]
    assert re.fullmatch(r"M1 crossing removed by the coach at \d\d:\d\d", entry["sentence"])
    assert (entry["kind"], entry["applied"], entry["undone_by"], entry["who"]) == ("drop-crossing", True, None, "coach")
    assert {c["key"] for c in body["nearby"]} == {m1, aside}
    attached = post(coach, f"/api/runs/{body['run']['id']}/corrections", {"kind": "attach-crossing", "crossing": aside})
    assert attached.status_code == 201
    body = attached.get_json()
    assert [(c["gate"], c["from_start_s"]) for c in body["crossings"]] == [("M1", 0.0), ("M2", 5.0), ("M3", 8.1)]
    assert body["run"]["status"] == "complete" and [h["kind"] for h in body["history"]] == ["drop-crossing", "attach-crossing"]
    undone = post(coach, f"/api/corrections/{entry['id']}/undo")  # undo the drop: the attach no longer applies
    assert undone.status_code == 201
    body = undone.get_json()
    assert body["run"]["id"] == run["id"] and body["run"]["crossings"] == run["crossings"]
    assert [(h["kind"], h["applied"]) for h in body["history"]] == [("drop-crossing", False), ("attach-crossing", False), ("undo", True)]
    assert body["history"][0]["undone_by"] == body["history"][2]["id"]
    assert body["history"][1]["note"].startswith("The run would cross M1 twice")  # kept, said why it no longer applies
    assert body["history"][2]["text"] == "undid “M1 crossing removed”"


def test_split_then_merge_back(coach, flying, db_path):
    (run,) = complete(coach, flying)
    m2 = opened(coach, run["id"])["crossings"][1]["key"]
    split = post(coach, f"/api/runs/{run['id']}/corrections", {"kind": "split-run", "crossing": m2}).get_json()
    assert [c["gate"] for c in split["crossings"]] == ["M2", "M3"] and split["run"]["status"] == "complete"  # the fly stands
    (m1,) = [c for c in split["nearby"] if c["from_start_s"] < 0 and c["reason"] == "split off by the coach"]
    merged = post(coach, f"/api/runs/{split['run']['id']}/corrections", {"kind": "merge-runs", "run": m1["run"]})
    assert merged.status_code == 201, merged.get_data(as_text=True)
    assert merged.get_json()["run"]["crossings"] == run["crossings"]


def test_set_athlete(coach, flying, db_path):
    (run,) = complete(coach, flying)
    ana = athlete_id(db_path, "Ana Silva")
    body = post(coach, f"/api/runs/{run['id']}/corrections", {"kind": "set-athlete", "athlete": ana}).get_json()
    assert (body["run"]["athlete"], body["history"][0]["text"]) == ("Ana Silva", "athlete set to Ana Silva")
    body = post(coach, f"/api/runs/{body['run']['id']}/corrections", {"kind": "set-athlete", "athlete": None}).get_json()
    assert body["run"]["athlete"] is None


def test_a_corrected_run_is_reassigned_through_a_correction(coach, flying, db_path):
    (run,) = complete(coach, flying)
    m1 = opened(coach, run["id"])["crossings"][0]["key"]
    fixed = post(coach, f"/api/runs/{run['id']}/corrections", {"kind": "drop-crossing", "crossing": m1}).get_json()["run"]
    ana = athlete_id(db_path, "Ana Silva")
    assigned = post(coach, f"/api/runs/{fixed['id']}/assign", {"athlete": ana})
    assert assigned.status_code == 200 and assigned.get_json()["athlete"] == "Ana Silva"
    assert [h["kind"] for h in opened(coach, assigned.get_json()["id"])["history"]] == ["drop-crossing", "set-athlete"]


def test_corrections_survive_recompute_through_the_api(coach, flying, db_path, daemon):
    (run,) = complete(coach, flying)
    m1 = opened(coach, run["id"])["crossings"][0]["key"]
    post(coach, f"/api/runs/{run['id']}/corrections", {"kind": "drop-crossing", "crossing": m1})
    before = coach.get(f"/api/runs?session={flying}").get_json()["runs"]
    daemon.stop()
    with Store(db_path) as store:
        store.recompute(flying)
    assert coach.get(f"/api/runs?session={flying}").get_json()["runs"] == before
    (entry,) = coach.get(f"/api/sessions/{flying}/corrections").get_json()["corrections"]
    assert (entry["kind"], entry["applied"], entry["note"]) == ("drop-crossing", True, None)


def test_a_correction_that_no_longer_applies_is_listed_with_the_session(coach, flying, db_path, daemon):
    (run,) = complete(coach, flying)
    m1 = opened(coach, run["id"])["crossings"][0]["key"]
    post(coach, f"/api/runs/{run['id']}/corrections", {"kind": "drop-crossing", "crossing": m1})
    daemon.stop()
    with Store(db_path) as store:  # as if a new detection no longer saw that crossing
        store.db.execute("delete from edges where session_id = ? and beam = 'M1' and t_ns >= ?", [flying, int(m1.split("@")[1]) - 10**8])
        store.db.conn.commit()
        store.recompute(flying)
    (entry,) = coach.get(f"/api/sessions/{flying}/corrections").get_json()["corrections"]
    assert entry["applied"] is False and entry["note"].startswith("There is no longer the M1 crossing at")
    assert error(coach.get("/api/sessions/999/corrections"), 404) == "There is no session 999."
    html = coach.get(f"/history/sessions/{flying}").get_data(as_text=True)  # History shows it, with its reason
    stale = html[html.index('id="stale"') :]
    assert re.search(r"M1 crossing removed by the coach at \d\d:\d\d <small>— There is no longer the M1 crossing at", stale)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({}, "kind", "Correction is required: one of drop-crossing, attach-crossing, split-run, merge-runs, set-athlete."),
        ({"kind": "undo"}, "kind", "Correction must be one of"),
        ({"kind": "drop-crossing"}, "crossing", "Crossing is required."),
        ({"kind": "drop-crossing", "crossing": 12}, "crossing", "Crossing must be text."),
        ({"kind": "drop-crossing", "crossing": "M1"}, "crossing", "A crossing is named GATE@NANOSECONDS"),
        ({"kind": "drop-crossing", "crossing": "M1@" + "9" * 19}, "crossing", "A crossing's instant must be from"),
        ({"kind": "drop-crossing", "crossing": "M1@" + "9" * 40}, "crossing", "at most 40 characters"),
        ({"kind": "drop-crossing", "crossing": "M1@5"}, "crossing", "is not in run"),
        ({"kind": "split-run", "crossing": "M9@5"}, "crossing", "The M9 crossing at 0.000 s is not in run"),
        ({"kind": "attach-crossing", "crossing": "M1@5"}, "crossing", "is not set aside in this session: only those can be attached."),
        ({"kind": "merge-runs"}, "run", "Run to merge with is required."),
        ({"kind": "merge-runs", "run": "x"}, "run", "Run to merge with must be a whole number"),
        ({"kind": "merge-runs", "run": 999}, "run", "There is no run 999 to merge with."),
        ({"kind": "set-athlete", "athlete": 999}, "athlete", "There is no athlete 999."),
        ({"kind": "set-athlete", "athlete": 1.5}, "athlete", "Athlete must be a whole number"),
    ],
)
def test_every_bad_field_is_a_400_naming_it(coach, flying, body, field, words):
    (run,) = complete(coach, flying)
    assert words in error(post(coach, f"/api/runs/{run['id']}/corrections", body), 400, field)


def test_merge_with_itself_and_corrections_that_do_not_apply_are_400s(coach, flying):
    (run,) = complete(coach, flying)
    panel = opened(coach, run["id"])
    url = f"/api/runs/{run['id']}/corrections"
    assert "is not another run of session" in error(post(coach, url, {"kind": "merge-runs", "run": run["id"]}), 400, "run")
    first, aside = panel["crossings"][0]["key"], panel["nearby"][0]["key"]
    assert error(post(coach, url, {"kind": "split-run", "crossing": first}), 400) == (
        f"The M1 crossing at {int(first.split('@')[1]) / 1e9:.3f} s starts its run: there is nothing before it to split off."
    )
    assert "would cross M1 twice" in error(post(coach, url, {"kind": "attach-crossing", "crossing": aside}), 400)
    dropped = post(coach, url, {"kind": "drop-crossing", "crossing": first}).get_json()
    undo = f"/api/corrections/{dropped['history'][0]['id']}/undo"
    assert post(coach, undo).status_code == 201
    assert error(post(coach, undo), 400) == f"Correction {dropped['history'][0]['id']} is already undone."
    assert error(post(coach, "/api/corrections/999/undo"), 404) == "There is no correction 999."
    assert error(post(coach, "/api/runs/999/corrections", {"kind": "drop-crossing", "crossing": first}), 404) == "There is no run 999."
    assert error(coach.get("/api/runs/999/crossings"), 404) == "There is no run 999."


# Control's forms ---------------------------------------------------------------------------------


def test_control_opens_a_run_with_its_crossings_and_buttons(coach, flying):
    (run,) = complete(coach, flying)
    html = coach.get(f"/control?open={run['id']}").get_data(as_text=True)
    card = html[html.index(f'id="run-{run["id"]}"') :]
    assert re.search(r"<details[^>]*class=\"corrections\"[^>]* open", card)
    for words in ("M1", ">0.000 s", "+3.500 s", "+6.600 s", "Drop", "Split here", "Attach", "−1.500 s", "Reassign"):
        assert words in card, words
    card = card[: card.index("</li>")]
    # One athlete control, one meaning: Reassign is the set-athlete correction (no second selector in the panel).
    assert card.count("<select") == 1 and "Set athlete" not in card
    assert re.search(rf'action="/control/runs/{run["id"]}/correct"[^>]*>\s*<input[^>]*csrf_token[^>]*><input type="hidden" name="kind" value="set-athlete">', card)


def test_control_reassign_is_a_set_athlete_correction_with_history_and_undo(coach, flying, db_path):
    (run,) = complete(coach, flying)
    ana = athlete_id(db_path, "Ana Silva")
    response = form(coach, f"/control/runs/{run['id']}/correct", kind="set-athlete", athlete=str(ana))
    (fixed,) = complete(coach, flying)
    assert fixed["athlete"] == "Ana Silva" and response.headers["Location"].endswith(f"/control?open={fixed['id']}#run-{fixed['id']}")
    (entry,) = opened(coach, fixed["id"])["history"]
    assert entry["text"] == "athlete set to Ana Silva"
    html = coach.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r"athlete set to Ana Silva by the coach at \d\d:\d\d", html) and 'aria-label="Undo: athlete set to Ana Silva"' in html
    form(coach, f"/control/runs/{fixed['id']}/undo/{entry['id']}")
    assert complete(coach, flying)[0]["athlete"] == run["athlete"]


def test_the_api_assign_is_an_alias_of_the_set_athlete_correction(coach, flying, db_path):
    (run,) = complete(coach, flying)
    ana = athlete_id(db_path, "Ana Silva")
    assigned = post(coach, f"/api/runs/{run['id']}/assign", {"athlete": ana}).get_json()
    assert assigned["athlete"] == "Ana Silva"
    assert [(h["kind"], h["text"]) for h in opened(coach, assigned["id"])["history"]] == [("set-athlete", "athlete set to Ana Silva")]


def test_control_drop_and_undo_with_forms(coach, flying):
    (run,) = complete(coach, flying)
    m1 = opened(coach, run["id"])["crossings"][0]["key"]
    response = form(coach, f"/control/runs/{run['id']}/correct", kind="drop-crossing", crossing=m1)
    assert response.status_code == 302
    (fixed,) = complete(coach, flying)
    assert response.headers["Location"].endswith(f"/control?open={fixed['id']}#run-{fixed['id']}")
    html = coach.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r"M1 crossing removed by the coach at \d\d:\d\d", html)
    correction_id = opened(coach, fixed["id"])["history"][0]["id"]
    response = form(coach, f"/control/runs/{fixed['id']}/undo/{correction_id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/control?open={run['id']}#run-{run['id']}")
    assert complete(coach, flying)[0]["crossings"] == run["crossings"]


def test_control_refusal_is_next_to_the_run_never_an_error_page(coach, flying):
    (run,) = complete(coach, flying)
    response = form(coach, f"/control/runs/{run['id']}/correct", kind="drop-crossing", crossing="M1@5")
    page_error(response, 400, "is not in run")
    html = response.get_data(as_text=True)
    assert "<h1>Control</h1>" in html and html.index('id="error-run-') > html.index(f'id="run-{run["id"]}"')
    page_error(form(coach, f"/control/runs/{run['id']}/undo/999"), 404, "There is no correction 999.")


# History's session page ----------------------------------------------------------------------------


def test_history_corrects_a_run_of_an_older_session_and_shows_its_history_to_everybody(coach, client, flying, daemon):
    (run,) = complete(coach, flying)
    daemon.new_session()  # the session is no longer live: corrected from History, by the store
    page = f"/history/sessions/{flying}"
    assert 'id="corrections"' not in coach.get(page).get_data(as_text=True)  # nothing corrected, nothing opened
    html = coach.get(page).get_data(as_text=True)
    assert f'href="{page}?open={run["id"]}#run-{run["id"]}" class="fixlink" aria-label="Correct run {run["number"]}"' in html  # in the table's first column
    card = coach.get(f"{page}?open={run['id']}").get_data(as_text=True)
    card = card[card.index(f'id="run-{run["id"]}" data-key') :]
    assert re.search(r"<details[^>]*class=\"corrections\"[^>]* open", card)
    for words in ("Drop", "Split here", "Attach", "Reassign", "−1.500 s"):  # the same panel as Control's
        assert words in card, words
    m1 = opened(coach, run["id"])["crossings"][0]["key"]
    response = form(coach, f"{page}/runs/{run['id']}/correct", kind="drop-crossing", crossing=m1)
    (fixed,) = complete(coach, flying)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{page}?open={fixed['id']}#run-{fixed['id']}")
    refused = form(coach, f"{page}/runs/{fixed['id']}/correct", kind="drop-crossing", crossing="M1@5")
    page_error(refused, 400, "is not in run")  # next to the run, on History
    assert "<h1>Session" in refused.get_data(as_text=True)
    viewer = client.get(page).get_data(as_text=True)  # not the coach: the history, no buttons
    assert re.search(r"M1 crossing removed by the coach at \d\d:\d\d", viewer)
    assert "Drop" not in viewer and "Undo" not in viewer and "Correct run" not in viewer
    correction_id = opened(coach, fixed["id"])["history"][0]["id"]
    response = form(coach, f"{page}/runs/{fixed['id']}/undo/{correction_id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{page}?open={run['id']}#run-{run['id']}")
    assert complete(coach, flying)[0]["crossings"] == run["crossings"]
    assert "(undone)" in client.get(page).get_data(as_text=True)

