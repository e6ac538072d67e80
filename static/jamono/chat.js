/* The browser chat (templates/web/chat.html, apps/integrations/web).
 *
 * Sends {"question", "thread"} over the page's socket and shows the events of the answer as
 * they come: "start" (thinking…), "delta" (the next words), "final" (the whole answer, then
 * its notes: the Sources line with links to the knowledge pages, who answered). Model output
 * only ever goes into the page as text (textContent), never as HTML.
 */
(function () {
  "use strict";

  var root = document.getElementById("webchat");
  if (!root) {
    return;
  }
  var text = root.dataset;
  var log = document.getElementById("webchat-log");
  var statusLine = document.getElementById("webchat-status");
  var form = document.getElementById("webchat-form");
  var input = document.getElementById("webchat-question");
  var sendButton = document.getElementById("webchat-send");
  var newButton = document.getElementById("webchat-new");
  var maxChars = parseInt(text.maxChars, 10) || 12000;
  var CLOSE_MESSAGES = { 4401: text.login, 4403: text.forbidden };

  var socket = null;
  var thread = threadNew();
  var messages = {}; // message id -> {box, body, notes, streamed}
  var retryDelayMs = 1000;

  function threadNew() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return ("0" + b.toString(16)).slice(-2);
      })
      .join("");
  }

  function statusShow(value) {
    statusLine.textContent = value || "";
  }

  function inputEnable(enabled) {
    input.disabled = !enabled;
    sendButton.disabled = !enabled;
  }

  function scrollDown() {
    window.scrollTo(0, document.body.scrollHeight);
  }

  function box(who, className) {
    var element = document.createElement("article");
    element.className = "webchat-message " + (className || "");
    var name = document.createElement("p");
    name.className = "who";
    name.textContent = who;
    var body = document.createElement("div");
    body.className = "body";
    var notes = document.createElement("div");
    notes.className = "notes note";
    element.appendChild(name);
    element.appendChild(body);
    element.appendChild(notes);
    log.appendChild(element);
    scrollDown();
    return { box: element, body: body, notes: notes, streamed: false };
  }

  function answerBox(id) {
    if (!messages[id]) {
      messages[id] = box(text.agent, "from-agent");
    }
    return messages[id];
  }

  function hrefSafe(href) {
    return /^https?:\/\//i.test(href) || /^\/(?!\/)/.test(href);
  }

  function notesShow(target, notes) {
    target.textContent = "";
    (notes || []).forEach(function (parts) {
      var line = document.createElement("p");
      parts.forEach(function (part) {
        if (part.href && hrefSafe(part.href)) {
          var link = document.createElement("a");
          link.href = part.href;
          link.textContent = part.text;
          line.appendChild(link);
        } else {
          line.appendChild(document.createTextNode(part.text));
        }
      });
      target.appendChild(line);
    });
  }

  function messageShow(event) {
    var answer = answerBox(event.message);
    answer.body.classList.remove("pending");
    answer.body.textContent = event.text || "";
    answer.box.className = "webchat-message from-agent tone-" + (event.tone || "plain");
    notesShow(answer.notes, event.notes);
    scrollDown();
  }

  function errorShow(message) {
    var line = document.createElement("p");
    line.className = "webchat-message webchat-error";
    line.setAttribute("role", "alert");
    line.textContent = message;
    log.appendChild(line);
    scrollDown();
  }

  function fileShow(event) {
    var bytes = Uint8Array.from(window.atob(event.content_base64), function (c) {
      return c.charCodeAt(0);
    });
    var blob = new Blob([bytes], { type: event.content_type });
    var shared = box(text.agent, "from-agent");
    shared.body.textContent = event.comment || event.title;
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = event.name;
    link.textContent = text.download + " " + event.name;
    shared.notes.appendChild(link);
  }

  var handlers = {
    ready: function () {
      retryDelayMs = 1000;
      statusShow("");
      inputEnable(true);
    },
    accepted: function () {
      statusShow("");
    },
    error: function (event) {
      statusShow("");
      errorShow(event.text);
    },
    status: function (event) {
      statusShow(event.text);
    },
    start: function (event) {
      var answer = answerBox(event.message);
      answer.body.classList.add("pending");
      answer.body.textContent = event.text;
      answer.streamed = false;
    },
    delta: function (event) {
      var answer = answerBox(event.message);
      if (!answer.streamed) {
        answer.streamed = true;
        answer.body.classList.remove("pending");
        answer.body.textContent = "";
      }
      answer.body.appendChild(document.createTextNode(event.text));
      scrollDown();
    },
    final: function (event) {
      statusShow("");
      messageShow(event);
    },
    message: function (event) {
      // An edit (no thread) applies only to a message this page shows.
      if (!event.thread && !messages[event.message]) {
        return;
      }
      messageShow(event);
    },
    file: fileShow,
  };

  function eventReceive(raw) {
    var event;
    try {
      event = JSON.parse(raw.data);
    } catch (error) {
      return;
    }
    // The socket carries every chat of this person (other tabs too): only this thread's.
    if (event.thread && event.thread !== thread) {
      return;
    }
    var handler = handlers[event.kind];
    if (handler) {
      handler(event);
    }
  }

  function connect() {
    statusShow(text.connecting);
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + text.socket);
    socket.addEventListener("message", eventReceive);
    socket.addEventListener("close", function (closed) {
      inputEnable(false);
      if (CLOSE_MESSAGES[closed.code]) {
        statusShow(CLOSE_MESSAGES[closed.code]);
        return;
      }
      if (closed.code === 4404) {
        statusShow("");
        return; // the error event said why
      }
      statusShow(text.reconnecting);
      window.setTimeout(connect, retryDelayMs);
      retryDelayMs = Math.min(retryDelayMs * 2, 30000);
    });
  }

  function questionSend() {
    var question = input.value.trim();
    if (!question) {
      errorShow(text.empty);
      return;
    }
    if (question.length > maxChars) {
      errorShow(text.tooLong);
      return;
    }
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      statusShow(text.reconnecting);
      return;
    }
    var mine = box(text.you, "from-you");
    mine.body.textContent = question;
    socket.send(JSON.stringify({ question: question, thread: thread }));
    input.value = "";
    statusShow(text.sending);
  }

  form.addEventListener("submit", function (submitted) {
    submitted.preventDefault();
    questionSend();
  });
  input.addEventListener("keydown", function (pressed) {
    if (pressed.key === "Enter" && !pressed.shiftKey && !pressed.isComposing) {
      pressed.preventDefault();
      questionSend();
    }
  });
  newButton.addEventListener("click", function () {
    thread = threadNew();
    messages = {};
    log.textContent = "";
    statusShow("");
    input.focus();
  });

  connect();
})();
