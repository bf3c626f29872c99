// The banner's logic, with Node's built-in test runner: node --test tests/js/
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const BANNER = path.join(__dirname, "..", "..", "src", "pledge", "web", "banner");
const banner = require(path.join(BANNER, "banner.js"));
const messages = (language) =>
  JSON.parse(fs.readFileSync(path.join(BANNER, "i18n", `${language}.json`), "utf8"));

const NOTICE = {
  controller: "Acme Cloud",
  version: "2.1",
  cookiesHash: "0123456789abcdef",
  maxAge: 180 * 86400,
  cookie: "pledge_consent",
  categories: [
    {
      key: "strictly_necessary",
      required: true,
      gpc: false,
      recorded: false,
      purposes: [],
      cookies: [{ name: "session_id" }, { name: "pledge_consent" }],
    },
    {
      key: "functional",
      required: false,
      gpc: false,
      recorded: false,
      purposes: [],
      cookies: [{ name: "lang" }],
    },
    {
      key: "analytics",
      required: false,
      gpc: false,
      recorded: true,
      purposes: [],
      cookies: [{ name: "_pk_id*" }, { name: "_pk_ses" }],
    },
    {
      key: "advertising",
      required: false,
      gpc: true,
      recorded: true,
      purposes: [],
      cookies: [{ name: "_ads" }],
    },
  ],
};

const NOW = 1_800_000_000;

function choice(changes) {
  return {
    device: "d-2f1c9a7e-0000-4000-8000-000000000001",
    version: "2.1",
    hash: "0123456789abcdef",
    time: NOW,
    allowed: { functional: true, analytics: false, advertising: false },
    pending: {},
    ...changes,
  };
}

test("a stored choice survives the cookie round trip", () => {
  const stored = choice({ pending: { analytics: "withdrawn", functional: "granted" } });
  const value = banner.serialiseChoice(stored);
  assert.doesNotMatch(value, /[;,\s"\\]/, "only characters a cookie value may hold");
  assert.deepEqual(banner.parseChoice(value), stored);
});

test("the choice is read from among other cookies", () => {
  const value = banner.serialiseChoice(choice());
  const cookies = `theme=dark; pledge_consent=${value}; pledge_consent_old=x`;
  assert.equal(banner.readCookie(cookies, "pledge_consent"), value);
  assert.equal(banner.readCookie("theme=dark", "pledge_consent"), null);
  assert.deepEqual(banner.cookieNames(cookies), ["theme", "pledge_consent", "pledge_consent_old"]);
});

test("a damaged or forged cookie is no choice", () => {
  assert.equal(banner.parseChoice(""), null);
  assert.equal(banner.parseChoice("v=2.1&t=1"), null, "no device id");
  assert.equal(banner.parseChoice("d=<script>&t=1"), null, "not a device id");
  assert.equal(banner.parseChoice("d=d-12345678&t=soon"), null, "no time");
  const odd = banner.parseChoice("d=d-12345678&t=1&p=analytics:maybe.advertising:refused");
  assert.deepEqual(odd.pending, { advertising: "refused" }, "unknown decisions are dropped");
});

test("a choice stands while the policy version, the cookie list and its age allow", () => {
  assert.equal(banner.isCurrent(choice(), NOTICE, NOW + 10), true);
  assert.equal(banner.isCurrent(null, NOTICE, NOW), false);
  assert.equal(banner.isCurrent(choice({ version: "2.0" }), NOTICE, NOW), false);
  assert.equal(banner.isCurrent(choice({ hash: "fedcba9876543210" }), NOTICE, NOW), false);
  assert.equal(banner.isCurrent(choice(), NOTICE, NOW + 180 * 86400 - 1), true);
  assert.equal(banner.isCurrent(choice(), NOTICE, NOW + 180 * 86400), false, "too old");
  assert.equal(banner.isCurrent(choice(), { ...NOTICE, maxAge: null }, NOW + 9e8), true);
});

test("accept all grants every category except those a GPC signal refuses", () => {
  assert.deepEqual(banner.acceptAll(NOTICE, false), {
    functional: true,
    analytics: true,
    advertising: true,
  });
  assert.deepEqual(banner.acceptAll(NOTICE, true), {
    functional: true,
    analytics: true,
    advertising: false,
  });
});

test("reject all refuses every category, and strictly necessary is never a choice", () => {
  assert.deepEqual(banner.rejectAll(NOTICE), {
    functional: false,
    analytics: false,
    advertising: false,
  });
  const wanted = { strictly_necessary: false, analytics: true, horoscopes: true };
  assert.deepEqual(banner.normalise(NOTICE, wanted, false), {
    functional: false,
    analytics: true,
    advertising: false,
  });
});

test("a first choice records every category the ledger holds, refusals included", () => {
  const decisions = banner.decisionsBetween(null, banner.rejectAll(NOTICE), NOTICE, true);
  assert.deepEqual(decisions, { analytics: "refused", advertising: "refused" });
});

test("a later choice records only what changed, switching off as a withdrawal", () => {
  const before = { functional: true, analytics: true, advertising: false };
  const after = { functional: false, analytics: false, advertising: true };
  assert.deepEqual(banner.decisionsBetween(before, after, NOTICE, false), {
    analytics: "withdrawn",
    advertising: "granted",
  });
  assert.deepEqual(banner.decisionsBetween(before, before, NOTICE, false), {});
});

test("a choice under a new notice records everything again", () => {
  const before = { functional: true, analytics: true, advertising: false };
  assert.deepEqual(banner.decisionsBetween(before, before, NOTICE, true), {
    analytics: "granted",
    advertising: "refused",
  });
});

test("declared names with a trailing star cover a prefix", () => {
  assert.equal(banner.matchesCookie("_pk_id*", "_pk_id.1.abcd"), true);
  assert.equal(banner.matchesCookie("_pk_id*", "_pk_ses"), false);
  assert.equal(banner.matchesCookie("_pk_ses", "_pk_ses.1"), false);
  const names = ["_pk_id.1.abcd", "_pk_ses", "session_id", "_ads", "lang"];
  assert.deepEqual(banner.cookiesOf(NOTICE, "analytics", names), ["_pk_id.1.abcd", "_pk_ses"]);
  assert.deepEqual(banner.cookiesOf(NOTICE, "advertising", names), ["_ads"]);
});

test("withdrawal tries every domain and path a cookie may have been set with", () => {
  assert.deepEqual(banner.domainCandidates("www.shop.example"), [
    "",
    "www.shop.example",
    ".www.shop.example",
    "shop.example",
    ".shop.example",
  ]);
  assert.deepEqual(banner.domainCandidates("localhost"), [""]);
  assert.deepEqual(banner.domainCandidates("127.0.0.1"), [""]);
  assert.deepEqual(banner.domainCandidates("::1"), [""]);
  assert.deepEqual(banner.pathCandidates("/shop/cart/"), ["/", "/shop", "/shop/cart"]);
  assert.deepEqual(banner.pathCandidates("/"), ["/"]);
});

test("durations are written out in the page's language", () => {
  const english = messages("en");
  const german = messages("de");
  assert.equal(banner.formatDuration("P13M", english), "13 months");
  assert.equal(banner.formatDuration("P1Y6M", english), "1 year and 6 months");
  assert.equal(banner.formatDuration("P1DT12H", german), "1 Tag und 12 Stunden");
  assert.equal(banner.formatDuration("P2W", german), "2 Wochen");
  assert.equal(banner.formatDuration("session", german), german.session);
  assert.equal(banner.formatDuration(null, english), english.notStated);
});

test("the language is the first wanted one there are messages for, else English", () => {
  const available = { en: messages("en"), de: messages("de") };
  assert.equal(banner.pickLanguage(["de-AT", "en"], available), "de");
  assert.equal(banner.pickLanguage([null, "", "fr", "DE"], available), "de");
  assert.equal(banner.pickLanguage(["fr-FR"], available), "en");
  assert.equal(banner.pickLanguage([], available), "en");
});

function keysOf(value, prefix = "") {
  if (typeof value !== "object" || Array.isArray(value)) return [prefix];
  return Object.keys(value)
    .sort()
    .flatMap((key) => keysOf(value[key], prefix ? `${prefix}.${key}` : key));
}

function placeholders(text) {
  return (String(text).match(/\{\w+\}/g) || []).sort();
}

test("every language has every message, with the same placeholders", () => {
  const english = messages("en");
  const languages = fs
    .readdirSync(path.join(BANNER, "i18n"))
    .map((name) => name.replace(/\.json$/, ""));
  assert.ok(languages.includes("de"), "a second language proves the strings translatable");
  for (const language of languages) {
    const translated = messages(language);
    assert.deepEqual(keysOf(translated), keysOf(english), `${language} has other messages`);
    for (const key of keysOf(english)) {
      const pick = (source) => key.split(".").reduce((node, part) => node[part], source);
      const value = pick(translated);
      if (Array.isArray(value)) {
        assert.equal(value.length, 2, `${language} ${key}: singular and plural`);
        assert.ok(value.every((word) => word.trim()), `${language} ${key} is empty`);
        continue;
      }
      assert.ok(String(value).trim(), `${language} ${key} is empty`);
      assert.deepEqual(placeholders(value), placeholders(pick(english)), `${language} ${key}`);
    }
  }
  assert.equal(banner.format(english.title, { controller: "Acme" }), "Cookies on Acme");
  assert.equal(banner.format("{unknown} stays", {}), "{unknown} stays");
});

test("device ids are random and fit the ledger's device ids", () => {
  const { webcrypto } = require("node:crypto");
  const pattern = /^[A-Za-z0-9._:=+/-]{8,200}$/;
  const one = banner.newDeviceId(webcrypto);
  const other = banner.newDeviceId({ getRandomValues: (bytes) => webcrypto.getRandomValues(bytes) });
  assert.match(one, pattern);
  assert.match(other, /^d-[0-9a-f]{32}$/);
  assert.notEqual(one, banner.newDeviceId(webcrypto));
});

test("the request names the notice shown and the GPC signal", () => {
  const body = banner.requestBody("d-12345678", { analytics: "granted" }, NOTICE, true);
  assert.deepEqual(body, {
    device_id: "d-12345678",
    categories: { analytics: "granted" },
    declaration_version: "2.1",
    cookies_hash: "0123456789abcdef",
    gpc: true,
  });
});
