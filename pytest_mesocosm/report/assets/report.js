/* mesocosm report: table sorting and filtering, and the turn-by-turn replay viewer.
   Trace content is only ever written with textContent (never as markup). */
(function () {
  "use strict";
  var DATA = null;
  var waiting = null;

  /* The replay data: gzipped JSON in base64, unpacked by the browser's own gzip. */
  function loadData() {
    var packed = atob(document.getElementById("mesocosm-data").textContent.trim());
    var bytes = new Uint8Array(packed.length);
    for (var i = 0; i < packed.length; i++) bytes[i] = packed.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }
  var FOLD_CHARS = 1500;
  var FOLD_LINES = 25;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function show(value) {
    if (value === null || value === undefined) return "-";
    if (typeof value === "string") return value;
    return JSON.stringify(value, null, 2);
  }

  function num(value) {
    if (value === null || value === undefined) return "-";
    return typeof value === "number" ? String(Math.round(value * 1000) / 1000) : String(value);
  }

  /* A block of text that folds when large. */
  function block(title, text, cls, open) {
    var lines = text.split("\n").length;
    var pre = el("pre", cls || "", text);
    if (text.length <= FOLD_CHARS && lines <= FOLD_LINES) {
      var wrap = el("div", "field");
      wrap.appendChild(el("h4", null, title));
      wrap.appendChild(pre);
      return wrap;
    }
    var details = el("details", "field fold");
    if (open) details.open = true;
    var kb = (text.length / 1024).toFixed(1);
    details.appendChild(el("summary", null, title + " (" + lines + " lines, " + kb + " KB: click to unfold)"));
    details.appendChild(pre);
    return details;
  }

  function observation(obs) {
    if (obs.kind === "image") {
      var wrap = el("div", "field");
      wrap.appendChild(el("h4", null, "observation (" + obs.mime + ")"));
      var img = el("img", "obs-image");
      img.alt = "observation image";
      img.src = "data:" + obs.mime + ";base64," + obs.data;
      wrap.appendChild(img);
      return wrap;
    }
    var text = obs.kind === "text" ? String(obs.data) : show(obs.data);
    return block("observation (" + obs.mime + ")", text, "obs obs-" + obs.kind);
  }

  function kv(pairs) {
    var dl = el("dl", "kv");
    pairs.forEach(function (pair) {
      dl.appendChild(el("dt", null, pair[0]));
      var dd = el("dd", pair[2] || null, pair[1]);
      dl.appendChild(dd);
    });
    return dl;
  }

  function attemptNode(attempt, index, count) {
    var box = el("div", attempt.rejected ? "attempt rejected" : "attempt");
    var head = count > 1 ? "reply " + (index + 1) + " of " + count : "model reply";
    box.appendChild(el("h4", null, head + (attempt.rejected ? ": rejected" : "")));
    if (attempt.reasoning) box.appendChild(block("reasoning", String(attempt.reasoning), "reasoning"));
    if (attempt.raw !== null && attempt.raw !== undefined) box.appendChild(block("raw reply", String(attempt.raw), "raw"));
    if (attempt.rejected) {
      box.appendChild(block("parsed action", show(attempt.action), "rejected-action"));
      box.appendChild(el("p", "reason", "env said: " + attempt.rejected));
    }
    return box;
  }

  var state = null;

  function position() {
    return state.pos < state.replay.turns.length ? "turn " + (state.pos + 1) + " of " + state.replay.turns.length : "end";
  }

  function renderTurn(body, turn) {
    body.appendChild(el("h3", "turn-title", "Turn " + turn.step));
    if (turn.system_prompt) body.appendChild(block("system prompt", String(turn.system_prompt), "system"));
    body.appendChild(observation(turn.observation));
    turn.attempts.forEach(function (attempt, i) {
      body.appendChild(attemptNode(attempt, i, turn.attempts.length));
    });
    if (turn.accepted) {
      body.appendChild(block("action", show(turn.action), "turn-action"));
      body.appendChild(kv([
        ["reward", num(turn.reward), "turn-reward"],
        ["terminated", String(turn.terminated)],
        ["truncated", String(turn.truncated)]
      ]));
      if (turn.info && Object.keys(turn.info).length) body.appendChild(block("info", show(turn.info), "info"));
    } else {
      body.appendChild(el("p", "reason", "no action was accepted at this step"));
    }
  }

  function renderEnd(body, end) {
    body.appendChild(el("h3", "turn-title", "End: " + end.status));
    body.appendChild(kv([
      ["outcome", end.status, "badge s-" + end.status],
      ["reason", end.reason || "-"],
      ["total reward", num(end.total_reward)],
      ["steps", num(end.steps)],
      ["invalid actions", num(end.invalid_actions)]
    ]));
    if (end.error) {
      var err = block(end.status === "env_error" ? "error (the environment's message)" : "error", String(end.error), "end-error", true);
      err.id = "replay-error";
      body.appendChild(err);
    }
    if (end.info && Object.keys(end.info).length) body.appendChild(block("terminal info", show(end.info), "info"));
  }

  function render() {
    var body = document.getElementById("replay-body");
    body.textContent = "";
    var turns = state.replay.turns;
    if (state.pos < turns.length) renderTurn(body, turns[state.pos]);
    else renderEnd(body, state.replay.end);
    document.getElementById("replay-pos").textContent = position();
    document.getElementById("replay-prev").disabled = state.pos === 0;
    document.getElementById("replay-next").disabled = state.pos === turns.length;
    var steps = document.getElementById("replay-steps").children;
    for (var i = 0; i < steps.length; i++) steps[i].classList.toggle("current", i === state.pos);
  }

  function open(runIndex, episodeId) {
    if (DATA === null) { waiting = [runIndex, episodeId]; return; }
    var run = DATA.runs[runIndex];
    var replay = run && run.replays[episodeId];
    if (!replay) return;
    state = { replay: replay, pos: 0 };
    document.getElementById("replay-title").textContent = run.name + " · " + replay.label;
    document.getElementById("replay-sub").textContent = episodeId + " · " + replay.end.status + " · " + replay.turns.length + " turns";
    var steps = document.getElementById("replay-steps");
    steps.textContent = "";
    replay.turns.concat([null]).forEach(function (turn, i) {
      var item = el("li", turn ? (turn.accepted ? "" : "open") : "end", turn ? String(turn.step) : "end");
      if (turn && turn.attempts.some(function (a) { return a.rejected; })) item.classList.add("had-rejects");
      item.addEventListener("click", function () { state.pos = i; render(); });
      steps.appendChild(item);
    });
    document.getElementById("replay").hidden = false;
    document.body.classList.add("replaying");
    render();
  }

  function move(delta) {
    if (!state) return;
    var next = Math.min(Math.max(state.pos + delta, 0), state.replay.turns.length);
    if (next !== state.pos) { state.pos = next; render(); }
  }

  function close() {
    state = null;
    document.getElementById("replay").hidden = true;
    document.body.classList.remove("replaying");
  }

  document.getElementById("replay-prev").addEventListener("click", function () { move(-1); });
  document.getElementById("replay-next").addEventListener("click", function () { move(1); });
  document.getElementById("replay-close").addEventListener("click", close);
  document.addEventListener("keydown", function (event) {
    var tag = event.target && event.target.tagName;
    if (!state || tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
    if (event.key === "ArrowRight") { move(1); event.preventDefault(); }
    else if (event.key === "ArrowLeft") { move(-1); event.preventDefault(); }
    else if (event.key === "Escape") close();
  });

  /* The episode tables: click a row to replay it, click a header to sort, type to filter. */
  Array.prototype.forEach.call(document.querySelectorAll("section.run"), function (section) {
    var runIndex = Number(section.getAttribute("data-run"));
    var table = section.querySelector("table.episodes");
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    var filter = section.querySelector(".ep-filter");
    var status = section.querySelector(".ep-status");
    var shown = section.querySelector(".ep-shown");

    rows.forEach(function (row) {
      var go = function () { open(runIndex, row.getAttribute("data-episode")); };
      row.addEventListener("click", go);
      row.addEventListener("keydown", function (event) { if (event.key === "Enter") go(); });
    });

    Array.prototype.forEach.call(table.tHead.querySelectorAll("th[data-key]"), function (th) {
      th.tabIndex = 0;
      th.addEventListener("click", function () {
        var key = th.getAttribute("data-key");
        var numeric = th.hasAttribute("data-num");
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(table.tHead.querySelectorAll("th"), function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var sign = ascending ? 1 : -1;
        var sorted = rows.slice().sort(function (a, b) {
          var x = a.getAttribute("data-" + key), y = b.getAttribute("data-" + key);
          if (numeric) {
            var nx = x === "" ? -Infinity : Number(x), ny = y === "" ? -Infinity : Number(y);
            return sign * (nx - ny);
          }
          return sign * x.localeCompare(y);
        });
        sorted.forEach(function (row) { tbody.appendChild(row); });
      });
    });

    function applyFilter() {
      var text = filter.value.trim().toLowerCase();
      var want = status.value;
      var count = 0;
      rows.forEach(function (row) {
        var ok = (!want || row.getAttribute("data-status") === want) &&
          (!text || row.textContent.toLowerCase().indexOf(text) !== -1);
        row.hidden = !ok;
        if (ok) count++;
      });
      shown.textContent = count + " shown";
    }
    filter.addEventListener("input", applyFilter);
    status.addEventListener("change", applyFilter);
  });

  loadData().then(function (data) {
    DATA = data;
    document.documentElement.setAttribute("data-ready", "yes");
    if (waiting) open(waiting[0], waiting[1]);
  }, function (error) {
    document.documentElement.setAttribute("data-ready", "failed");
    console.error("mesocosm report: cannot read the replay data: " + error);
  });
})();
