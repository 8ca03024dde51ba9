#!/usr/bin/env node
// Render Adaptive Cards with Microsoft's `adaptivecards` renderer in headless Chromium, with the
// Microsoft Teams host config of each theme, and measure them. For tests/cards/test_rendered.py.
// Usage: measure.js OUT_DIR THEME[,THEME...] CARD.json...   (themes: light, dark, contrast)
// Prints one JSON object: {card file: {theme: {height, width, errors, ids: {id: [top, bottom]}}}}
// and writes OUT_DIR/<card>.<theme>.png. "contrast" is the dark config with Teams' high-contrast
// colours (high-contrast.json here): Microsoft ships no Teams high-contrast host config.
const fs = require("fs");
const os = require("os");
const path = require("path");
const { createRequire } = require("module");

const candidates = [process.env.CARD_RENDER_MODULES, path.join(__dirname, "node_modules"),
  path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "customer-card-tools", "node_modules")];
const modules = candidates.find((dir) => dir && fs.existsSync(path.join(dir, "adaptivecards")));
if (!modules) { console.error("measure.js: run `npm install` in tests/cards/render"); process.exit(3); }
const req = createRequire(path.join(modules, "_"));
const mod = (p) => req.resolve(p);

const WIDTH = 480; // Teams' chat column for a full-width card on a laptop screen, as render-card uses
const ERROR_EVENTS = new Set(["MissingCardType", "UnknownElementType", "UnknownActionType", "ElementTypeNotAllowed",
  "ActionTypeNotAllowed", "InvalidPropertyValue", "PropertyCantBeNull", "UnsupportedCardVersion", "DuplicateId",
  "TooManyActions", "InteractivityNotAllowed"]);

function hostConfig(theme) {
  const base = theme === "light" ? "light" : "dark";
  const config = JSON.parse(fs.readFileSync(mod(`adaptivecards-designer/lib/hostConfigs/microsoft-teams-${base}.json`), "utf8"));
  if (theme !== "contrast") return config;
  const contrast = JSON.parse(fs.readFileSync(path.join(__dirname, "high-contrast.json"), "utf8"));
  for (const style of Object.values(config.containerStyles)) Object.assign(style, contrast.containerStyle);
  return config;
}

async function main() {
  const [outDir, themeList, ...files] = process.argv.slice(2);
  const themes = themeList.split(",");
  fs.mkdirSync(outDir, { recursive: true });
  const { chromium } = req("playwright-core");
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "ac-measure-"));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium", headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: WIDTH + 80, height: 800 },
  });
  const result = {};
  try {
    for (const theme of themes) {
      const page = await ctx.newPage();
      const css = theme === "light" ? "light" : "dark";
      await page.setContent(`<html><body style="margin:0;background:${css === "dark" ? "#1f1f1f" : "#f5f5f5"}"></body></html>`);
      for (const sheet of ["adaptivecards/lib/adaptivecards.css", `adaptivecards-designer/dist/containers/teams-container-${css}.css`])
        await page.addStyleTag({ path: mod(sheet) });
      await page.addScriptTag({ path: mod("markdown-it/dist/markdown-it.min.js") });
      await page.addScriptTag({ path: mod("adaptivecards/dist/adaptivecards.min.js") });
      const config = hostConfig(theme);
      for (const file of files) {
        const card = JSON.parse(fs.readFileSync(file, "utf8"));
        const name = path.basename(file).replace(/\.json$/, "");
        const r = await page.evaluate(({ card, config, width, background }) => {
          document.body.innerHTML = "";
          const AC = window.AdaptiveCards, md = window.markdownit();
          AC.AdaptiveCard.onProcessMarkdown = (text, res) => { res.outputHtml = md.render(text); res.didProcess = true; };
          // The renderer checks `lang` with a /g regular expression whose lastIndex survives
          // between cards: every second card's valid "de" would fail. Reset it per card.
          AC.CardElement.langProperty.regEx.lastIndex = 0;
          const ac = new AC.AdaptiveCard();
          ac.hostConfig = new AC.HostConfig(config);
          const sc = new AC.SerializationContext();
          const events = [];
          ac.parse(card, sc);
          for (let k = 0; k < sc.eventCount; k++) events.push(sc.getEventAt(k));
          events.push(...ac.validateProperties().validationEvents);
          const host = document.createElement("div");
          host.id = "card";
          host.className = "teams-card";
          host.style.cssText = `width:${width}px;margin:16px;background:${background};display:inline-block`;
          document.body.appendChild(host);
          const el = ac.render();
          if (el) host.appendChild(el);
          const top = host.getBoundingClientRect().top, ids = {};
          for (const node of host.querySelectorAll("[id]")) {
            const box = node.getBoundingClientRect();
            if (box.height > 0) ids[node.id] = [Math.round(box.top - top), Math.round(box.bottom - top)];
          }
          return { height: Math.round(host.getBoundingClientRect().height), rendered: !!el, ids,
            events: events.map((e) => ({ event: AC.ValidationEvent[e.event], message: e.message })) };
        }, { card, config, width: WIDTH, background: config.containerStyles.default.backgroundColor || "#fff" });
        const errors = r.events.filter((e) => ERROR_EVENTS.has(e.event)).map((e) => `${e.event}: ${e.message}`);
        if (!r.rendered) errors.push("renderer produced no element");
        await page.locator("#card").screenshot({ path: path.join(outDir, `${name}.${theme}.png`) });
        (result[file] = result[file] || {})[theme] = { height: r.height, errors, ids: r.ids };
      }
      await page.close();
    }
  } finally {
    await ctx.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(JSON.stringify(result));
}
main().catch((e) => { console.error(`measure.js: ${e.stack || e}`); process.exit(4); });
