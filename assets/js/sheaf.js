// Sheaf's page behaviour. Loaded as a file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  // Ask before destructive actions (buttons with data-confirm).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // Copy buttons (data-copy names the element whose text to copy).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = "Copied";
      });
    }
  });

  // Idle lock: after the configured time without input, go to the lock page (the server also
  // refuses the next request, so this only hides the screen sooner). While the person is
  // active, tell the server at most once a minute, so that reading a page is not "idle".
  var body = document.body;
  var idleSeconds = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
  if (idleSeconds > 0) {
    var lockUrl = body.getAttribute("data-lock-url");
    var aliveUrl = body.getAttribute("data-alive-url");
    var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
    var lastInput = Date.now();
    var lastPing = Date.now();
    var onInput = function () {
      lastInput = Date.now();
      if (lastInput - lastPing > 60000) {
        lastPing = lastInput;
        fetch(aliveUrl, { method: "POST", headers: { "X-CSRFToken": token }, credentials: "same-origin" });
      }
    };
    ["keydown", "mousedown", "mousemove", "wheel", "touchstart"].forEach(function (name) {
      document.addEventListener(name, onInput, { passive: true });
    });
    window.setInterval(function () {
      if (Date.now() - lastInput > idleSeconds * 1000) {
        var here = window.location.pathname + window.location.search;
        window.location.assign(lockUrl + "?next=" + encodeURIComponent(here));
      }
    }, 5000);
  }
})();

// Import: drop a file on the upload form; follow a running import's progress.
(function () {
  "use strict";
  var form = document.querySelector("[data-dropzone]");
  if (form) {
    var zone = form.querySelector("[data-dropzone-target]");
    var input = form.querySelector('input[type="file"]');
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("is-over");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("is-over"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        form.submit();
      }
    });
  }

  // Fields that apply to some choices of a radio group only, e.g. the existing dataset when
  // adding rows or replacing them: data-shown-with="mode:append replace". Without script
  // they simply stay visible.
  Array.prototype.forEach.call(document.querySelectorAll("[data-shown-with]"), function (block) {
    var spec = block.getAttribute("data-shown-with").split(":");
    var radios = document.querySelectorAll('input[type="radio"][name="' + spec[0] + '"]');
    var values = spec[1].split(" ");
    var update = function () {
      var chosen = Array.prototype.filter.call(radios, function (r) { return r.checked; })[0];
      block.hidden = !(chosen && values.indexOf(chosen.value) >= 0);
    };
    Array.prototype.forEach.call(radios, function (r) { r.addEventListener("change", update); });
    update();
  });

  var panel = document.querySelector("[data-import-progress]");
  if (panel) {
    var url = panel.getAttribute("data-import-progress");
    var bar = document.getElementById("import-progress");
    var text = panel.querySelector("[data-progress-text]");
    var format = function (n) { return n.toLocaleString(); };
    var poll = function () {
      fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      }).then(function (data) {
        if (["done", "failed", "cancelled"].indexOf(data.status) >= 0) {
          window.location.reload();
          return;
        }
        var p = data.progress;
        if (p) {
          if (p.fraction !== null) { bar.value = p.fraction; }
          var parts = [format(p.rows) + (p.rows === 1 ? " row read" : " rows read")];
          if (p.total_bytes) {
            parts.push(format(Math.round(p.bytes / 1048576)) + " of " +
                       format(Math.max(1, Math.round(p.total_bytes / 1048576))) + " MB");
          }
          if (p.seconds_left !== null) { parts.push("about " + p.seconds_left + " s left"); }
          if (p.cancelling) { parts.push("cancelling…"); }
          text.textContent = parts.join(" · ");
        }
        window.setTimeout(poll, 500);
      }).catch(function () { window.setTimeout(poll, 2000); });
    };
    window.setTimeout(poll, 300);
  }
})();

// Filters: each column's operator and value become one query argument, e.g. c3.min=10.
(function () {
  "use strict";
  var form = document.querySelector(".view-controls");
  if (!form) return;
  // The hint under a filter follows its operator; operators without a value disable it.
  form.querySelectorAll("[data-filter-op]").forEach(function (select) {
    select.addEventListener("change", function () {
      var column = select.getAttribute("data-filter-op");
      var option = select.options[select.selectedIndex];
      var hint = form.querySelector('[data-filter-hint="' + column + '"]');
      var valueInput = form.querySelector('[data-filter-value="' + column + '"]');
      if (hint) hint.textContent = option.getAttribute("data-hint") || "";
      valueInput.disabled = ["empty", "notempty", "misfit"].indexOf(select.value) >= 0;
    });
  });
  form.addEventListener("submit", function () {
    form.querySelectorAll("[data-filter-current]").forEach(function (input) { input.remove(); });
    form.querySelectorAll("[data-filter-op]").forEach(function (select) {
      var column = select.getAttribute("data-filter-op");
      var valueInput = form.querySelector('[data-filter-value="' + column + '"]');
      var op = select.value;
      var value = valueInput.value.trim();
      if (op === "empty" || op === "notempty" || op === "misfit") { value = "1"; }
      if (!value) return;
      var hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = column + "." + op;
      hidden.value = value;
      form.appendChild(hidden);
    });
  });
})();

// In the desktop window: the system's own dialogs to open a file and to save an export. The
// page asks the server, whose shell shows the dialog (server/native_dialogs.py); the
// "sheaf-dialogs" meta tag is there only in the window. In a browser nothing changes (upload
// and download as usual).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="sheaf-dialogs"]');
  if (!meta) return;
  var base = meta.getAttribute("content");
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var notify = function (text, kind) {
    var main = document.getElementById("main");
    var box = document.createElement("div");
    box.className = "notice notice-" + kind;
    box.setAttribute("role", kind === "error" ? "alert" : "status");
    box.textContent = text;
    main.insertBefore(box, main.firstChild);
  };
  var asking = false;
  var ask = function (kind, fields) {
    if (asking) return Promise.resolve({});  // one dialog at a time (a double click)
    asking = true;
    return fetch(base + kind, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf },
      body: new URLSearchParams(fields || {})
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("json") >= 0;
      if (response.redirected || !json) {
        window.location.reload();  // e.g. the session locked meanwhile: show that page
        return {};
      }
      return response.json().then(function (answer) {
        if (!response.ok) throw new Error(answer.error || "The dialog could not be opened.");
        return answer;
      });
    }).finally(function () { asking = false; });
  };
  var failed = function (error) { notify(error.message, "error"); };
  var openForm = document.querySelector("[data-native-open-form]");
  if (openForm) {
    openForm.hidden = false;
    openForm.querySelector("[data-native-open]").addEventListener("click", function () {
      ask("open").then(function (picked) {
        if (!picked.token) return;
        openForm.querySelector('input[name="token"]').value = picked.token;
        openForm.submit();
      }).catch(failed);
    });
  }
  document.querySelectorAll("[data-native-save]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      ask("save", { name: link.getAttribute("data-native-save") }).then(function (place) {
        if (!place.token) return;
        var url = link.href + (link.href.indexOf("?") < 0 ? "?" : "&") + "save=" +
                  encodeURIComponent(place.token);
        return fetch(url, { credentials: "same-origin" }).then(function (response) {
          return response.json();
        }).then(function (answer) {
          if (answer.saved) notify("Saved " + answer.saved + " in " + answer.folder + ".", "success");
          else notify(answer.error || "The file could not be saved.", "error");
        });
      }).catch(failed);
    });
  });
})();

// Editing a cell in the table (people who may edit see a table with data-edit-cell): a
// double-click or Enter opens the cell, Enter saves, Escape cancels, Tab saves and moves on.
// The server checks everything again; a refused value says why in place.
(function () {
  "use strict";
  var table = document.querySelector("table[data-edit-cell]");
  if (!table) return;
  var base = table.getAttribute("data-edit-cell");
  var names = table.getAttribute("data-columns").split(",");
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  table.querySelectorAll("tbody td:not(.rownum)").forEach(function (cell) {
    cell.tabIndex = -1;
  });
  var open = null;
  var close = function (cell, text) {
    cell.textContent = "";
    if (text === null || text === "") {
      var empty = document.createElement("span");
      empty.className = "empty-cell";
      empty.textContent = "empty";
      cell.appendChild(empty);
    } else {
      cell.textContent = text;
    }
    open = null;
  };
  var show = function (value, cell) {
    if (value === null) return "";
    if (cell.classList.contains("boolean")) return value === 1 ? "yes" : value === 0 ? "no" : String(value);
    return String(value);
  };
  var edit = function (cell) {
    if (open || !cell || cell.classList.contains("rownum")) return;
    var row = cell.parentElement;
    var rowId = row.querySelector(".rownum input").value;
    var column = names[cell.cellIndex - 1];
    var before = cell.querySelector(".empty-cell") ? "" : cell.textContent;
    var input = document.createElement("input");
    input.type = "text";
    input.value = before;
    input.setAttribute("aria-label", "New value");
    var message = document.createElement("span");
    message.className = "cell-error";
    message.setAttribute("role", "alert");
    cell.textContent = "";
    cell.appendChild(input);
    cell.appendChild(message);
    open = cell;
    input.focus();
    input.select();
    var save = function (next) {
      if (input.value === before) { close(cell, before); if (next) edit(next); else cell.focus(); return; }
      // "before" is the cell as this page showed it: if someone changed it meanwhile, the
      // server refuses, even though this page's own edits moved its version on.
      var body = new URLSearchParams({ column: column, value: input.value, before: before,
                                       version: table.getAttribute("data-version") });
      fetch(base + rowId + "/cell", {
        method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf }, body: body
      }).then(function (response) {
        return response.json().then(function (answer) { return [response.ok, answer]; });
      }).then(function (result) {
        if (!result[0]) { message.textContent = result[1].error || "Not saved."; input.focus(); return; }
        table.setAttribute("data-version", result[1].version);
        close(cell, result[1].shown !== undefined ? result[1].shown : show(result[1].value, cell));
        if (next) edit(next); else cell.focus();
      }).catch(function () {
        message.textContent = "Not saved: Sheaf did not answer. Reload the page.";
      });
    };
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); save(null); }
      else if (event.key === "Escape") { event.preventDefault(); close(cell, before); cell.focus(); }
      else if (event.key === "Tab") { event.preventDefault(); save(event.shiftKey ? cell.previousElementSibling : cell.nextElementSibling); }
    });
  };
  table.addEventListener("dblclick", function (event) { edit(event.target.closest("td")); });
  table.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.tagName === "TD") { event.preventDefault(); edit(event.target); }
  });
})();

// The table page: column widths (dragging a header's edge), the Columns menu, and the keyboard
// (arrows between cells, Page Up/Down between pages, "/" to search, Escape closes a menu).
// The layout is the person's own and is kept on the server (POST, with the CSRF token).
(function () {
  "use strict";
  var region = document.querySelector("[data-layout-url]");
  if (!region) return;
  var table = region.querySelector("table");
  var layoutUrl = region.getAttribute("data-layout-url");
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");

  // Widths live in a stylesheet made here (the CSP forbids style attributes in the page):
  // one rule per resized column, for its header and its cells alike.
  var widths = {};
  var sheet = null;
  if ("adoptedStyleSheets" in document && typeof CSSStyleSheet === "function") {
    sheet = new CSSStyleSheet();
    document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
  }
  var applyWidths = function () {
    if (!sheet) return;
    var rules = [];
    table.querySelectorAll("thead th[data-column]").forEach(function (th) {
      var width = widths[th.getAttribute("data-column")];
      if (!width) return;
      var n = th.cellIndex + 1;
      rules.push(".table-data tr > :nth-child(" + n + ") { width: " + width + "px; min-width: " +
                 width + "px; max-width: " + width + "px; }");
    });
    sheet.replaceSync(rules.join("\n"));
  };
  table.querySelectorAll("thead th[data-width]").forEach(function (th) {
    widths[th.getAttribute("data-column")] = parseInt(th.getAttribute("data-width"), 10);
  });
  applyWidths();

  var save = function (payload) {
    return fetch(layoutUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Content-Type": "application/json" },
      body: JSON.stringify(payload)
    });
  };

  table.querySelectorAll(".col-resize").forEach(function (handle) {
    handle.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      var th = handle.closest("th");
      var name = handle.getAttribute("data-resize");
      var startX = event.clientX;
      var startWidth = th.getBoundingClientRect().width;
      handle.setPointerCapture(event.pointerId);
      handle.classList.add("is-dragging");
      var move = function (e) {
        widths[name] = Math.round(Math.min(1200, Math.max(40, startWidth + e.clientX - startX)));
        applyWidths();
      };
      var done = function () {
        handle.removeEventListener("pointermove", move);
        handle.removeEventListener("pointerup", done);
        handle.removeEventListener("pointercancel", done);
        handle.classList.remove("is-dragging");
        if (widths[name]) {
          var changed = {};
          changed[name] = widths[name];
          save({ widths: changed });
        }
      };
      handle.addEventListener("pointermove", move);
      handle.addEventListener("pointerup", done);
      handle.addEventListener("pointercancel", done);
    });
    // A click on the edge must not sort by the column.
    handle.addEventListener("click", function (event) { event.preventDefault(); });
  });

  // The Columns menu: a tick applies at once; after a move the page comes back with the menu
  // open on the button used, so a column can be moved several places in a row.
  var menu = document.getElementById("columns-menu");
  if (menu) {
    var form = menu.querySelector("[data-columns-form]");
    form.querySelectorAll('input[name="shown"]').forEach(function (box) {
      box.addEventListener("change", function () {
        if (!form.querySelector('input[name="shown"]:checked')) {
          box.checked = true;  // the server refuses too: at least one column stays
          return;
        }
        form.requestSubmit();
      });
    });
    var hash = window.location.hash;
    if (hash === "#columns-menu" || hash.indexOf("#columns-") === 0) {
      menu.open = true;
      var target = document.getElementById(hash.slice(1));
      if (target && target.disabled) {
        target = target.parentElement.querySelector("button:not([disabled])");
      }
      (target && target !== menu ? target : menu.querySelector("summary")).focus();
      // Once: a reload later (or Page Down) should not open the menu again.
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
    }
  }

  // Escape closes an open menu and gives focus back to its button.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.popover-menu[open]").forEach(function (details) {
      details.open = false;
      details.querySelector("summary").focus();
    });
  });

  // Arrows move between cells (one cell at a time is in the tab order: "roving" focus).
  var cells = function (row) { return row ? row.querySelectorAll("th, td") : []; };
  var current = table.querySelector("tbody td:not(.rownum)") || table.querySelector("tbody td");
  table.querySelectorAll("tbody td").forEach(function (cell) { cell.tabIndex = -1; });
  if (current) current.tabIndex = 0;
  var focusCell = function (cell) {
    if (!cell || cell.tagName !== "TD") return;
    if (current) current.tabIndex = -1;
    current = cell;
    cell.tabIndex = 0;
    cell.focus();
  };
  table.addEventListener("focusin", function (event) {
    var cell = event.target.closest("tbody td");
    if (cell && cell !== current) {
      if (current) current.tabIndex = -1;
      current = cell;
      cell.tabIndex = 0;
    }
  });
  table.addEventListener("keydown", function (event) {
    var cell = event.target;
    if (cell.tagName !== "TD" || event.altKey || event.metaKey) return;
    var row = cell.parentElement;
    var index = cell.cellIndex;
    var next = null;
    if (event.key === "ArrowRight") next = cell.nextElementSibling;
    else if (event.key === "ArrowLeft") next = cell.previousElementSibling;
    else if (event.key === "ArrowDown") next = cells(row.nextElementSibling)[index];
    else if (event.key === "ArrowUp") next = cells(row.previousElementSibling)[index];
    else if (event.key === "Home") next = event.ctrlKey ? cells(table.tBodies[0].rows[0])[0] : row.cells[0];
    else if (event.key === "End") {
      var rows = table.tBodies[0].rows;
      var last = event.ctrlKey ? rows[rows.length - 1] : row;
      next = last.cells[last.cells.length - 1];
    } else return;
    event.preventDefault();
    focusCell(next);
  });

  var typing = function (element) {
    if (!element) return false;
    var tag = element.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable;
  };
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    if (event.key === "/") {
      var search = document.getElementById("q");
      if (search && !search.disabled) {
        event.preventDefault();
        search.focus();
        search.select();
      }
      return;
    }
    if (event.key === "PageDown" || event.key === "PageUp") {
      var link = document.querySelector(
        '.pager a[rel="' + (event.key === "PageDown" ? "next" : "prev") + '"]');
      if (link) {
        event.preventDefault();
        window.location.assign(link.href);
      }
    }
  });
})();

// Profile and chart pages: the chart form shows only the fields the chosen chart uses
// (data-chart-for lists the charts; data-chart-needs another field, "by" for any value or
// "agg:sum mean" for some); hidden fields are disabled, so they are not sent either. A
// profile worked out in the background is followed until it is done.
(function () {
  "use strict";
  var form = document.querySelector("[data-chart-form]");
  if (form) {
    var kind = form.querySelector("[data-chart-kind]");
    var fields = form.querySelectorAll("[data-chart-for]");
    var update = function () {
      fields.forEach(function (field) {
        var shown = field.getAttribute("data-chart-for").split(" ").indexOf(kind.value) >= 0;
        var needs = field.getAttribute("data-chart-needs");
        if (shown && needs) {
          var spec = needs.split(":");
          var other = form.querySelector('[name="' + spec[0] + '"]');
          shown = other && (spec.length > 1 ? spec[1].split(" ").indexOf(other.value) >= 0 : other.value !== "");
        }
        field.hidden = !shown;
        field.querySelectorAll("select, input").forEach(function (input) { input.disabled = !shown; });
      });
    };
    form.addEventListener("change", update);
    update();
  }
  var panel = document.querySelector("[data-profile-progress]");
  if (panel) {
    var url = panel.getAttribute("data-profile-progress");
    var bar = panel.querySelector("progress");
    var text = panel.querySelector("[data-progress-text]");
    var poll = function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      }).then(function (data) {
        if (data.status === "done") { window.location.reload(); return; }
        if (data.status === "failed") {
          text.textContent = data.error + " Reload the page to try again.";
          return;
        }
        bar.value = data.percent;
        text.textContent = data.status === "waiting" ? "Waiting for another profile to finish…" :
          data.done + " of " + data.total + " columns done" + (data.column ? " (now: " + data.column + ")" : "");
        window.setTimeout(poll, 500);
      }).catch(function () { window.setTimeout(poll, 2000); });
    };
    window.setTimeout(poll, 300);
  }
})();

// Facets on the table page: once the page has rendered and the panel is open, each column's
// facet is fetched (one at a time, so a large dataset is never asked for all at once) and put
// in its slot. Whether the panel is open is remembered, so it stays open after choosing a value.
(function () {
  "use strict";
  var panel = document.querySelector("details[data-facets]");
  if (!panel) return;
  var KEY = "sheaf-facets-open";
  var loaded = false;
  var load = function () {
    if (loaded) return;
    loaded = true;
    var slots = Array.prototype.slice.call(panel.querySelectorAll("[data-facet-url]"));
    var next = function () {
      var slot = slots.shift();
      if (!slot) return;
      fetch(slot.getAttribute("data-facet-url"), { credentials: "same-origin" })
        .then(function (response) {
          if (response.redirected) { window.location.reload(); return null; }
          if (!response.ok) throw new Error(String(response.status));
          return response.text();
        })
        .then(function (html) {
          if (html === null) return;
          slot.innerHTML = html;
          slot.setAttribute("aria-busy", "false");
          next();
        })
        .catch(function () {
          var note = slot.querySelector("p") || slot.appendChild(document.createElement("p"));
          note.className = "muted small";
          note.textContent = "These values could not be counted; reload the page to try again.";
          slot.setAttribute("aria-busy", "false");
          next();
        });
    };
    next();
  };
  var remembered = false;
  try { remembered = window.localStorage.getItem(KEY) === "1"; } catch (e) { remembered = false; }
  if (remembered) panel.open = true;
  if (panel.open) load();
  panel.addEventListener("toggle", function () {
    try { window.localStorage.setItem(KEY, panel.open ? "1" : "0"); } catch (e) { /* private mode */ }
    if (panel.open) load();
  });
})();

// The summary form shows only what the choices use: "Its dates by" for a date column, "Of"
// for anything but a count, the pivot choice with two groupings. Without the script every
// field shows, and the server checks them all anyway.
(function () {
  "use strict";
  var form = document.querySelector("[data-summary-form]");
  if (!form) return;
  var dates = (form.getAttribute("data-date-columns") || "").split(",");
  var fieldOf = function (id) {
    var input = document.getElementById(id);
    return input ? input.closest(".field") : null;
  };
  var show = function (field, shown) {
    if (!field) return;
    field.hidden = !shown;
    var input = field.querySelector("select");
    if (!shown && input) input.value = "";  // a hidden choice is never sent
  };
  var update = function () {
    ["by", "then"].forEach(function (name) {
      var column = document.getElementById(name);
      show(fieldOf(name + "_period"), column && dates.indexOf(column.value) >= 0);
    });
    ["1", "2", "3"].forEach(function (n) {
      var fn = document.getElementById("fn" + n);
      show(fieldOf("of" + n), fn && fn.value !== "" && fn.value !== "count");
    });
    var then = document.getElementById("then");
    var layout = form.querySelector("[data-needs-then]");
    if (layout) layout.hidden = !(then && then.value);
  };
  form.addEventListener("change", update);
  update();
})();
