// The dashboard's live activity feed (templates/dashboard/home.html): one line per event of the
// company's socket (apps/dashboard/consumers.py), newest first. Event data is shown through
// textContent only, never as HTML; the words come translated in the feed's data- attributes.
(function () {
  "use strict";
  var feed = document.getElementById("activity-feed");
  var state = document.getElementById("activity-state");
  if (!feed || !state || !window.WebSocket) return;
  var data = feed.dataset;
  var statuses = {};
  try {
    statuses = JSON.parse(data.statuses || "{}");
  } catch (error) {
    statuses = {};
  }
  var MAX_LINES = 200;
  var FIRST_DELAY_MS = 1000;
  var MAX_DELAY_MS = 30000;
  var PING_EVERY_MS = 25000; // keeps idle proxies from closing a quiet feed
  var delay = FIRST_DELAY_MS;

  // data-label-tool_call is rendered as data-label-toolcall: dataset.labelToolcall.
  function label(name) {
    var key = String(name || "").replace(/_/g, "");
    return data["label" + key.charAt(0).toUpperCase() + key.slice(1)] || "";
  }

  function part(className, text) {
    var element = document.createElement("span");
    element.className = className;
    element.textContent = String(text);
    return element;
  }

  function lineOf(event) {
    var line = document.createElement("li");
    line.className = "activity-line activity-new";
    line.setAttribute("data-kind", String(event.kind || ""));
    var time = document.createElement("time");
    var at = new Date(event.at);
    if (!isNaN(at.getTime())) {
      time.setAttribute("datetime", String(event.at));
      time.textContent = at.toLocaleTimeString(document.documentElement.lang || undefined, {
        hour12: false,
      });
    }
    line.appendChild(time);
    line.appendChild(part("activity-kind", label(event.kind) || event.kind || ""));
    if (event.agent) line.appendChild(part("activity-agent", event.agent));
    if (event.direct) {
      line.appendChild(part("activity-where", label("direct")));
    } else if (event.channel) {
      line.appendChild(part("activity-where", event.channel));
    }
    if (event.user) line.appendChild(part("activity-user", event.user));
    if (event.tool) line.appendChild(part("activity-tool", event.tool));
    if (event.status) {
      var status = part("activity-status", statuses[event.status] || event.status);
      status.setAttribute("data-status", String(event.status));
      line.appendChild(status);
    }
    if (event.execution) {
      var execution = part("activity-status", statuses[event.execution] || event.execution);
      execution.setAttribute("data-status", String(event.execution));
      line.appendChild(execution);
    }
    if (typeof event.needed === "number") {
      // A vote's tally: approvals of those needed, and rejections.
      line.appendChild(
        part(
          "activity-tally",
          label("approvals") + " " + Number(event.approvals || 0) + "/" + event.needed + " " +
            label("needed") + " · " + label("rejections") + " " + Number(event.rejections || 0)
        )
      );
    }
    if (typeof event.answer_ms === "number") {
      line.appendChild(part("activity-duration", (event.answer_ms / 1000).toFixed(1) + " s"));
    }
    if (event.sources) {
      line.appendChild(part("activity-sources", label("sources") + ": " + event.sources));
    }
    if (event.preview && !event.direct) {
      // What a person wrote: their words, not the page's (browsers' translators skip it).
      var preview = part("activity-preview", event.preview);
      preview.setAttribute("translate", "no");
      line.appendChild(preview);
    }
    return line;
  }

  function prepend(line) {
    var empty = feed.querySelector(".activity-empty");
    if (empty) empty.remove();
    feed.insertBefore(line, feed.firstChild);
    while (feed.children.length > MAX_LINES) feed.removeChild(feed.lastChild);
  }

  function show(name) {
    state.textContent = label(name);
    state.setAttribute("data-state", name);
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + data.socketPath);
    var ping = null;
    socket.onopen = function () {
      delay = FIRST_DELAY_MS;
      show("live");
      ping = window.setInterval(function () {
        if (socket.readyState === WebSocket.OPEN) socket.send("ping");
      }, PING_EVERY_MS);
    };
    socket.onmessage = function (message) {
      if (message.data === "pong") return;
      var event;
      try {
        event = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (event && typeof event === "object") prepend(lineOf(event));
    };
    socket.onclose = function (close) {
      window.clearInterval(ping);
      // 4401/4403: not logged in (any more), or not allowed: retrying would not help.
      if (close.code === 4401 || close.code === 4403) {
        show("logged_out");
        return;
      }
      show("reconnecting");
      window.setTimeout(connect, delay + Math.floor(Math.random() * 500));
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    };
  }

  connect();
})();
