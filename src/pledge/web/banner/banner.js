/*! Pledge cookie banner. Served as /banner.js; the server fills in the notice (the
 * declaration's cookies) and the translations. No dependencies. */
(function () {
  "use strict";

  var NOTICE = /*pledge:notice*/ null;
  var MESSAGES = /*pledge:messages*/ null;
  var SCRIPT = typeof document === "undefined" ? null : document.currentScript;
  var REQUIRED = "strictly_necessary";
  var DEVICE = /^[A-Za-z0-9._:=+/-]{8,200}$/;
  var UNITS = ["years", "months", "weeks", "days", "hours", "minutes", "seconds"];
  var DURATION =
    /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

  // --- the logic: plain functions, tested with Node's test runner (tests/js) ---------------

  /** The value of cookie `name` in a `document.cookie` string, or null. */
  function readCookie(cookieText, name) {
    var parts = String(cookieText || "").split(";");
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i].trim();
      var equals = part.indexOf("=");
      if (equals > 0 && part.slice(0, equals) === name) return part.slice(equals + 1);
    }
    return null;
  }

  /** The names of the cookies in a `document.cookie` string. */
  function cookieNames(cookieText) {
    return String(cookieText || "")
      .split(";")
      .map(function (part) {
        return part.split("=")[0].trim();
      })
      .filter(Boolean);
  }

  function split(text, separator) {
    return text ? text.split(separator).filter(Boolean) : [];
  }

  /** The stored choice from the banner cookie's value (a URL query string), or null. */
  function parseChoice(text) {
    if (!text) return null;
    var params;
    try {
      params = new URLSearchParams(text);
    } catch (error) {
      return null;
    }
    var device = params.get("d");
    var time = Number(params.get("t"));
    if (!device || !DEVICE.test(device) || !isFinite(time)) return null;
    var allowed = {};
    split(params.get("a"), ".").forEach(function (key) {
      allowed[key] = true;
    });
    split(params.get("r"), ".").forEach(function (key) {
      allowed[key] = false;
    });
    var pending = {};
    split(params.get("p"), ".").forEach(function (item) {
      var pair = item.split(":");
      if (/^(granted|refused|withdrawn)$/.test(pair[1])) pending[pair[0]] = pair[1];
    });
    return {
      device: device,
      version: params.get("v") || "",
      hash: params.get("h") || "",
      time: time,
      allowed: allowed,
      pending: pending,
    };
  }

  /** The banner cookie's value for a choice: `d` device, `v` policy version, `h` cookie-list
   * hash, `t` time (seconds), `a` allowed and `r` refused categories, `p` not yet recorded. */
  function serialiseChoice(choice) {
    var params = new URLSearchParams();
    var granted = [];
    var refused = [];
    Object.keys(choice.allowed).forEach(function (key) {
      (choice.allowed[key] ? granted : refused).push(key);
    });
    params.set("d", choice.device);
    params.set("v", choice.version);
    params.set("h", choice.hash);
    params.set("t", String(choice.time));
    params.set("a", granted.join("."));
    params.set("r", refused.join("."));
    var pending = Object.keys(choice.pending || {}).map(function (key) {
      return key + ":" + choice.pending[key];
    });
    if (pending.length) params.set("p", pending.join("."));
    return params.toString();
  }

  /** Whether a stored choice still stands: same policy version, same cookie list, not older
   * than the notice's maximum age (seconds). */
  function isCurrent(choice, notice, now) {
    if (!choice || choice.version !== notice.version || choice.hash !== notice.cookiesHash) {
      return false;
    }
    return notice.maxAge == null || now - choice.time < notice.maxAge;
  }

  function choosable(notice) {
    return notice.categories.filter(function (category) {
      return !category.required;
    });
  }

  /** Category → allowed, for every category a person decides about; categories refused by
   * Global Privacy Control stay off whatever was asked. */
  function normalise(notice, wanted, gpc) {
    var allowed = {};
    choosable(notice).forEach(function (category) {
      allowed[category.key] = wanted[category.key] === true && !(gpc && category.gpc);
    });
    return allowed;
  }

  function acceptAll(notice, gpc) {
    var wanted = {};
    choosable(notice).forEach(function (category) {
      wanted[category.key] = true;
    });
    return normalise(notice, wanted, gpc);
  }

  function rejectAll(notice) {
    return normalise(notice, {}, false);
  }

  /** What to record for a new choice: category → granted, refused or withdrawn.
   *
   * `previous` is the earlier choice's categories (null the first time). With `full`, every
   * recorded category is sent (a first choice, or one under a new notice); otherwise only
   * the categories that changed. Switching off what was on is a withdrawal. */
  function decisionsBetween(previous, next, notice, full) {
    var decisions = {};
    choosable(notice).forEach(function (category) {
      if (!category.recorded) return;
      var before = previous ? previous[category.key] : undefined;
      var after = next[category.key] === true;
      if (!full && before === after) return;
      decisions[category.key] = after ? "granted" : before === true ? "withdrawn" : "refused";
    });
    return decisions;
  }

  /** Whether a declared cookie name (a trailing `*` matches a prefix) covers `name`. */
  function matchesCookie(pattern, name) {
    if (pattern.slice(-1) === "*") return name.indexOf(pattern.slice(0, -1)) === 0;
    return name === pattern;
  }

  /** Which of `names` are declared cookies of the category. */
  function cookiesOf(notice, key, names) {
    var patterns = [];
    notice.categories.forEach(function (category) {
      if (category.key !== key) return;
      category.cookies.forEach(function (cookie) {
        patterns.push(cookie.name);
      });
    });
    return names.filter(function (name) {
      return patterns.some(function (pattern) {
        return matchesCookie(pattern, name);
      });
    });
  }

  /** The Domain attributes a cookie of this host may have been set with ("" for none). */
  function domainCandidates(hostname) {
    var found = [""];
    if (!hostname || /^[\d.]+$/.test(hostname) || hostname.indexOf(":") >= 0) return found;
    var labels = hostname.split(".");
    for (var i = 0; i < labels.length - 1; i++) {
      var domain = labels.slice(i).join(".");
      found.push(domain, "." + domain);
    }
    return found;
  }

  /** The Path attributes a cookie set on this page may have. */
  function pathCandidates(pathname) {
    var found = ["/"];
    var parts = split(pathname || "/", "/");
    for (var i = 1; i <= parts.length; i++) found.push("/" + parts.slice(0, i).join("/"));
    return found;
  }

  /** An ISO 8601 duration ("P13M", "session") in words of the language's messages. */
  function formatDuration(text, messages) {
    if (text == null) return messages.notStated;
    if (text === "session") return messages.session;
    var found = DURATION.exec(text);
    if (!found) return text;
    var words = [];
    UNITS.forEach(function (unit, index) {
      var count = Number(found[index + 1] || 0);
      if (count) words.push(count + " " + messages.units[unit][count === 1 ? 0 : 1]);
    });
    if (!words.length) return text;
    if (words.length === 1) return words[0];
    return words.slice(0, -1).join(", ") + " " + messages.and + " " + words[words.length - 1];
  }

  /** The first wanted language tag (or its primary subtag) there are messages for; else
   * English. */
  function pickLanguage(wanted, available) {
    for (var i = 0; i < wanted.length; i++) {
      if (!wanted[i]) continue;
      var tag = String(wanted[i]).toLowerCase();
      if (available[tag]) return tag;
      var primary = tag.split("-")[0];
      if (available[primary]) return primary;
    }
    return available.en ? "en" : Object.keys(available)[0];
  }

  /** A message with its `{name}` placeholders filled in. */
  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  /** A new anonymous device id: random, the same for this browser until the choice ends. */
  function newDeviceId(crypto) {
    if (crypto.randomUUID) return "d-" + crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return (
      "d-" +
      Array.prototype.map
        .call(bytes, function (byte) {
          return (byte + 256).toString(16).slice(1);
        })
        .join("")
    );
  }

  /** The body of `POST /api/v1/public/consent` for a device's decisions. */
  function requestBody(device, decisions, notice, gpc) {
    return {
      device_id: device,
      categories: decisions,
      declaration_version: notice.version,
      cookies_hash: notice.cookiesHash,
      gpc: gpc,
    };
  }

  /** Activate what waits for consent under `root`: `<script type="text/plain"
   * data-pledge-category="analytics">` becomes a running script, `data-src`/`data-srcset`
   * of iframes and images become `src`/`srcset`, once every category it names is allowed. */
  function activate(root, allowed, document) {
    var nodes = Array.prototype.slice.call(root.querySelectorAll("[data-pledge-category]"));
    if (root.hasAttribute && root.hasAttribute("data-pledge-category")) nodes.unshift(root);
    nodes.forEach(function (node) {
      if (node.hasAttribute("data-pledge-active")) return;
      var needed = split(node.getAttribute("data-pledge-category"), " ");
      var permitted = needed.every(function (key) {
        return key === REQUIRED || allowed[key] === true;
      });
      if (!needed.length || !permitted) return;
      if (node.tagName === "SCRIPT") {
        if (String(node.getAttribute("type")).toLowerCase() !== "text/plain") return;
        var script = document.createElement("script");
        Array.prototype.forEach.call(node.attributes, function (attribute) {
          if (!/^(type|data-type|data-src)$/.test(attribute.name)) {
            script.setAttribute(attribute.name, attribute.value);
          }
        });
        if (node.getAttribute("data-type")) script.type = node.getAttribute("data-type");
        var source = node.getAttribute("data-src") || node.getAttribute("src");
        if (source) {
          script.async = node.hasAttribute("async");
          script.src = source;
        } else {
          script.text = node.text;
        }
        script.setAttribute("data-pledge-active", "");
        node.parentNode.replaceChild(script, node);
        return;
      }
      ["src", "srcset"].forEach(function (name) {
        var value = node.getAttribute("data-" + name);
        if (value != null) node.setAttribute(name, value);
      });
      node.setAttribute("data-pledge-active", "");
    });
  }

  var logic = {
    readCookie: readCookie,
    cookieNames: cookieNames,
    parseChoice: parseChoice,
    serialiseChoice: serialiseChoice,
    isCurrent: isCurrent,
    normalise: normalise,
    acceptAll: acceptAll,
    rejectAll: rejectAll,
    decisionsBetween: decisionsBetween,
    matchesCookie: matchesCookie,
    cookiesOf: cookiesOf,
    domainCandidates: domainCandidates,
    pathCandidates: pathCandidates,
    formatDuration: formatDuration,
    pickLanguage: pickLanguage,
    format: format,
    newDeviceId: newDeviceId,
    requestBody: requestBody,
  };

  // --- the page: the dialog, the stored choice, the ledger ----------------------------------

  var STYLE =
    ":host{all:initial}" +
    ".backdrop{position:fixed;inset:0;z-index:2147483000;background:rgba(0,0,0,.4)}" +
    ".dialog{position:fixed;z-index:2147483001;left:1rem;right:1rem;bottom:1rem;margin:0 auto;" +
    "max-width:42rem;max-height:calc(100vh - 2rem);overflow:auto;box-sizing:border-box;" +
    "padding:1.25rem 1.5rem;background:#fff;color:#161616;border:2px solid #161616;" +
    "border-radius:.5rem;box-shadow:0 .5rem 2rem rgba(0,0,0,.35);font:16px/1.5 system-ui,sans-serif}" +
    "h2{font-size:1.25rem;margin:0 0 .5rem}h3{font-size:1rem;margin:0}p{margin:.5rem 0}" +
    "a{color:#0b3d91;text-decoration:underline}" +
    ".actions{display:grid;grid-template-columns:repeat(auto-fit,minmax(10.5rem,1fr));" +
    "gap:.5rem;margin-top:1rem}" +
    ".actions button{min-height:2.75rem;padding:.5rem 1rem;font:inherit;font-weight:600;" +
    "color:#fff;background:#0b3d91;border:2px solid #0b3d91;border-radius:.375rem;cursor:pointer}" +
    ":focus-visible{outline:3px solid #161616;outline-offset:3px}" +
    ".dialog:focus-visible{outline-offset:-6px}" +
    ".category{border-top:1px solid #767676;padding:.75rem 0}" +
    ".head{display:flex;align-items:center;justify-content:space-between;gap:1rem}" +
    ".switch{display:flex;align-items:center;gap:.5rem;cursor:pointer}" +
    "input{appearance:none;-webkit-appearance:none;position:relative;width:2.75rem;" +
    "height:1.5rem;margin:0;border:2px solid #161616;border-radius:1rem;background:#fff;cursor:pointer}" +
    "input::before{content:'';position:absolute;top:.125rem;left:.125rem;width:1rem;height:1rem;" +
    "border-radius:50%;background:#161616}" +
    "input:checked{background:#0b3d91;border-color:#0b3d91}" +
    "input:checked::before{left:1.375rem;background:#fff}" +
    "input:disabled{opacity:.6;cursor:not-allowed}" +
    ".state{min-width:4rem;font-size:.875rem;font-weight:600}" +
    ".note{padding:.5rem .75rem;border-left:4px solid #161616;background:#f2f2f2}" +
    "details{margin-top:.5rem}summary{cursor:pointer}" +
    ".table{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.875rem}" +
    "th,td{text-align:left;vertical-align:top;padding:.25rem .5rem;border-bottom:1px solid #ccc}" +
    ".open{position:fixed;z-index:2147482999;left:1rem;bottom:1rem;padding:.375rem .75rem;" +
    "font:600 .875rem/1.5 system-ui,sans-serif;color:#161616;background:#fff;" +
    "border:2px solid #161616;border-radius:2rem;cursor:pointer}" +
    ".hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}";

  function boot(window, document, script) {
    var notice = NOTICE;
    var navigator = window.navigator;
    var attribute = function (name) {
      return script ? script.getAttribute(name) : null;
    };
    var language = pickLanguage(
      [attribute("data-lang"), document.documentElement.lang].concat(navigator.languages || []),
      MESSAGES
    );
    var text = MESSAGES[language];
    var api =
      attribute("data-api") ||
      (script && script.src ? new URL(script.src).origin : window.location.origin);
    var gpc = navigator.globalPrivacyControl === true;
    var floating = attribute("data-floating") !== "false";
    var stored = parseChoice(readCookie(document.cookie, notice.cookie));
    var current = isCurrent(stored, notice, now()) ? stored : null;
    var allowed = current ? normalise(notice, current.allowed, gpc) : {};
    var listeners = [];
    var host = null;
    var root = null;
    var dialog = null;
    var opener = null;
    var button = null;
    var status = null;

    function now() {
      return Math.floor(Date.now() / 1000);
    }

    function label(key) {
      return text.categories[key] ? text.categories[key].label : key;
    }

    function snapshot() {
      var categories = {};
      categories[REQUIRED] = true;
      choosable(notice).forEach(function (category) {
        categories[category.key] = allowed[category.key] === true;
      });
      return {
        decided: current !== null,
        categories: categories,
        deviceId: stored ? stored.device : null,
        version: notice.version,
        gpc: gpc,
      };
    }

    function writeChoice(choice) {
      var cookie = notice.cookie + "=" + serialiseChoice(choice) + "; Path=/; SameSite=Lax";
      if (notice.maxAge != null) {
        cookie += "; Max-Age=" + Math.max(1, notice.maxAge - (now() - choice.time));
      }
      if (window.location.protocol === "https:") cookie += "; Secure";
      if (attribute("data-cookie-domain")) cookie += "; Domain=" + attribute("data-cookie-domain");
      document.cookie = cookie;
    }

    function save(next, full) {
      var previous = stored ? stored.allowed : null;
      var decisions = decisionsBetween(previous, next, notice, full || current === null);
      var pending = Object.assign({}, current ? current.pending : {}, decisions);
      stored = current = {
        device: stored ? stored.device : newDeviceId(window.crypto),
        version: notice.version,
        hash: notice.cookiesHash,
        time: now(),
        allowed: next,
        pending: pending,
      };
      var before = allowed;
      allowed = next;
      writeChoice(current);
      Object.keys(before).forEach(function (key) {
        if (before[key] && !next[key]) {
          cookiesOf(notice, key, cookieNames(document.cookie)).forEach(forget);
        }
      });
      activate(document, allowed, document);
      var state = snapshot();
      listeners.slice().forEach(function (listener) {
        try {
          listener(state);
        } catch (error) {
          window.setTimeout(function () {
            throw error;
          });
        }
      });
      document.dispatchEvent(new window.CustomEvent("pledge:consent", { detail: state }));
      return record();
    }

    function forget(name) {
      domainCandidates(window.location.hostname).forEach(function (domain) {
        pathCandidates(window.location.pathname).forEach(function (path) {
          document.cookie =
            name + "=; Max-Age=0; Path=" + path + (domain ? "; Domain=" + domain : "");
        });
      });
    }

    function record() {
      var choice = current;
      if (!choice || !Object.keys(choice.pending).length) return Promise.resolve(true);
      var sent = Object.assign({}, choice.pending);
      var body = requestBody(choice.device, sent, notice, gpc);
      return window
        .fetch(api + "/api/v1/public/consent", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
          credentials: "omit",
          keepalive: true,
        })
        .then(
          function (response) {
            // A 429 or a server error is tried again on the next page; any other answer
            // settles what was sent.
            if (response.status === 429 || response.status >= 500) return false;
            Object.keys(sent).forEach(function (key) {
              if (choice.pending[key] === sent[key]) delete choice.pending[key];
            });
            if (response.status === 409) choice.version = ""; // an outdated notice: ask again
            if (choice === current) writeChoice(choice);
            return response.ok;
          },
          function () {
            return false; // offline: the choice stays pending, sent from the next page
          }
        );
    }

    // --- the dialog ---

    function element(tag, attributes, children) {
      var node = document.createElement(tag);
      Object.keys(attributes || {}).forEach(function (name) {
        if (attributes[name] != null && attributes[name] !== false) {
          node.setAttribute(name, attributes[name] === true ? "" : attributes[name]);
        }
      });
      (children || []).forEach(function (child) {
        if (child != null) {
          node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
        }
      });
      return node;
    }

    function ensureHost() {
      if (host) return;
      host = element("div", { id: "pledge-banner", lang: language });
      root = host.attachShadow({ mode: "open" });
      root.appendChild(element("style", {}, [STYLE]));
      status = element("div", { class: "hidden", role: "status" });
      root.appendChild(status);
      document.body.appendChild(host);
      root.addEventListener("keydown", onKey);
    }

    function actionButton(action, name) {
      return element("button", { type: "button", "data-action": action }, [text[name]]);
    }

    function firstLayer() {
      var refused = choosable(notice).filter(function (category) {
        return gpc && category.gpc;
      });
      var values = { controller: notice.controller };
      return [
        element("h2", { id: "pledge-title" }, [format(text.title, values)]),
        element("p", { id: "pledge-intro" }, [format(text.intro, values)]),
        refused.length
          ? element("p", { class: "note", "data-gpc": true }, [
              format(text.gpc, {
                categories: refused
                  .map(function (category) {
                    return label(category.key);
                  })
                  .join(", "),
              }),
            ])
          : null,
        notice.policyUrl
          ? element("p", {}, [element("a", { href: notice.policyUrl }, [text.policy])])
          : null,
        element("div", { class: "actions" }, [
          actionButton("accept", "acceptAll"),
          actionButton("reject", "rejectAll"),
          actionButton("customise", "customise"),
        ]),
      ];
    }

    function cookieTable(category) {
      var row = function (cookie) {
        var provider = cookie.thirdParty
          ? format(text.thirdParty, { provider: cookie.provider })
          : cookie.provider;
        var about = cookie.own ? text.ownCookie : cookie.description;
        return element("tr", {}, [
          element("th", { scope: "row" }, [element("code", {}, [cookie.name])]),
          element("td", {}, [provider]),
          element("td", {}, [
            cookie.purpose || (about ? null : text.notStated),
            cookie.purpose && about ? element("br") : null,
            about,
          ]),
          element("td", {}, [formatDuration(cookie.duration, text)]),
        ]);
      };
      var headings = ["name", "provider", "purpose", "duration"].map(function (name) {
        return element("th", { scope: "col" }, [text[name]]);
      });
      return element("details", {}, [
        element("summary", {}, [format(text.cookies, { count: category.cookies.length })]),
        element("div", { class: "table" }, [
          element("table", {}, [
            element("thead", {}, [element("tr", {}, headings)]),
            element("tbody", {}, category.cookies.map(row)),
          ]),
        ]),
      ]);
    }

    function categorySection(category) {
      var key = category.key;
      var fixed = category.required || (gpc && category.gpc);
      var on = category.required || allowed[key] === true;
      var stateText = category.required ? text.alwaysOn : fixed ? text.gpcOff : on ? text.on : text.off;
      var state = element("span", { class: "state", "aria-hidden": "true" }, [stateText]);
      var input = element("input", {
        type: "checkbox",
        role: "switch",
        name: key,
        "aria-labelledby": "pledge-h-" + key,
        "aria-describedby": "pledge-d-" + key,
        checked: on,
        disabled: fixed,
      });
      input.addEventListener("change", function () {
        state.textContent = input.checked ? text.on : text.off;
      });
      var purposes = category.purposes.map(function (purpose) {
        return purpose.label + (purpose.description ? ": " + purpose.description : "");
      });
      return element("section", { class: "category", "data-category": key }, [
        element("div", { class: "head" }, [
          element("h3", { id: "pledge-h-" + key }, [label(key)]),
          element("label", { class: "switch" }, [input, state]),
        ]),
        element("p", { id: "pledge-d-" + key }, [
          text.categories[key] ? text.categories[key].description : "",
        ]),
        purposes.length ? element("p", {}, [text.purposes + ": " + purposes.join("; ")]) : null,
        category.cookies.length ? cookieTable(category) : null,
      ]);
    }

    function secondLayer() {
      var values = { controller: notice.controller };
      return [
        element("h2", { id: "pledge-title" }, [text.settingsTitle]),
        element("p", { id: "pledge-intro" }, [format(text.settingsIntro, values)]),
        notice.policyUrl
          ? element("p", {}, [element("a", { href: notice.policyUrl }, [text.policy])])
          : null,
      ]
        .concat(notice.categories.map(categorySection))
        .concat([
          element("div", { class: "actions" }, [
            actionButton("save", "save"),
            actionButton("accept", "acceptAll"),
            actionButton("reject", "rejectAll"),
          ]),
        ]);
    }

    function show(view) {
      ensureHost();
      if (!dialog) {
        var active = document.activeElement;
        opener = active && active !== document.body && active !== host ? active : null;
        root.appendChild(element("div", { class: "backdrop" }));
        dialog = element("div", {
          class: "dialog",
          role: "dialog",
          "aria-modal": "true",
          "aria-labelledby": "pledge-title",
          "aria-describedby": "pledge-intro",
          tabindex: "-1",
        });
        dialog.addEventListener("click", onClick);
        root.appendChild(dialog);
        document.addEventListener("focusin", keepFocus, true);
      }
      dialog.setAttribute("data-view", view);
      dialog.textContent = "";
      (view === "settings" ? secondLayer() : firstLayer()).forEach(function (child) {
        if (child) dialog.appendChild(child);
      });
      if (button) button.hidden = true;
      dialog.focus();
      if (window.performance && window.performance.mark && view === "first") {
        window.performance.mark("pledge:banner-visible");
      }
    }

    function close() {
      if (!dialog) return;
      document.removeEventListener("focusin", keepFocus, true);
      root.removeChild(root.querySelector(".backdrop"));
      root.removeChild(dialog);
      dialog = null;
      showButton();
      var target = opener && opener.isConnected ? opener : button;
      opener = null;
      if (target) target.focus();
    }

    function showButton() {
      if (!floating || !current) return;
      ensureHost();
      if (!button) {
        button = element("button", { type: "button", class: "open" }, [text.open]);
        button.addEventListener("click", function () {
          show("settings");
        });
        root.appendChild(button);
      }
      button.hidden = false;
    }

    function choose(next, full) {
      save(next, full);
      close();
      status.textContent = text.saved;
    }

    function onClick(event) {
      var target = event.target.closest("button[data-action]");
      if (!target) return;
      var action = target.getAttribute("data-action");
      if (action === "accept") choose(acceptAll(notice, gpc));
      else if (action === "reject") choose(rejectAll(notice));
      else if (action === "customise") show("settings");
      else if (action === "save") {
        var wanted = {};
        Array.prototype.forEach.call(dialog.querySelectorAll("input[name]"), function (input) {
          wanted[input.name] = input.checked;
        });
        choose(normalise(notice, wanted, gpc));
      }
    }

    function focusable() {
      var selector = "a[href],button:not([disabled]),input:not([disabled]),summary";
      return Array.prototype.filter.call(dialog.querySelectorAll(selector), function (node) {
        return node.getClientRects().length > 0;
      });
    }

    function onKey(event) {
      if (!dialog) return;
      if (event.key === "Escape") {
        if (current) close();
        else if (dialog.getAttribute("data-view") === "settings") show("first");
        return;
      }
      if (event.key !== "Tab") return;
      var items = focusable();
      if (!items.length) return;
      var active = root.activeElement;
      var first = items[0];
      var last = items[items.length - 1];
      if (event.shiftKey && (active === first || active === dialog)) {
        last.focus();
        event.preventDefault();
      } else if (!event.shiftKey && active === last) {
        first.focus();
        event.preventDefault();
      }
    }

    function keepFocus(event) {
      if (dialog && event.target !== host) dialog.focus();
    }

    function onSiteClick(event) {
      var link = event.target.closest && event.target.closest("[data-pledge-open]");
      var anchor = event.target.closest && event.target.closest("a[href='#pledge-settings']");
      if (!link && !anchor) return;
      event.preventDefault();
      show("settings");
    }

    function whenBody(callback) {
      if (document.body) return callback();
      var observer = new window.MutationObserver(function () {
        if (!document.body) return;
        observer.disconnect();
        callback();
      });
      observer.observe(document.documentElement, { childList: true });
    }

    // As soon as the page has a body, long before it has loaded: ask, or offer the settings.
    function ask() {
      if (current) showButton();
      else if (!dialog && choosable(notice).length) show("first"); // nothing to ask otherwise
    }

    // Once the page is parsed: run what the choice allows, and watch for what comes later.
    function start() {
      activate(document, allowed, document);
      new window.MutationObserver(function (changes) {
        changes.forEach(function (change) {
          Array.prototype.forEach.call(change.addedNodes, function (node) {
            if (node.nodeType === 1) activate(node, allowed, document);
          });
        });
      }).observe(document.documentElement, { childList: true, subtree: true });
      if (!current) return;
      var normalised = normalise(notice, current.allowed, gpc);
      var changed = Object.keys(normalised).some(function (key) {
        return current.allowed[key] !== normalised[key];
      });
      if (changed) save(normalised, false); // a Global Privacy Control signal since the choice
      else record(); // what an earlier page could not send
    }

    window.PledgeConsent = {
      version: notice.version,
      get: snapshot,
      allowed: function (key) {
        return key === REQUIRED || allowed[key] === true;
      },
      onChange: function (listener) {
        listeners.push(listener);
        return function () {
          var index = listeners.indexOf(listener);
          if (index >= 0) listeners.splice(index, 1);
        };
      },
      open: function () {
        whenBody(function () {
          show("settings");
        });
      },
      acceptAll: function () {
        return save(acceptAll(notice, gpc));
      },
      rejectAll: function () {
        return save(rejectAll(notice));
      },
      set: function (changes) {
        return save(normalise(notice, Object.assign({}, allowed, changes), gpc));
      },
    };

    document.addEventListener("click", onSiteClick);
    whenBody(ask);
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", start);
    } else {
      start();
    }
  }

  if (typeof window === "undefined") {
    module.exports = logic;
  } else if (NOTICE && !(window.PledgeConsent && window.PledgeConsent.version)) {
    boot(window, document, SCRIPT);
  }
})();
