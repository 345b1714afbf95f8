/* Block Kit and mrkdwn -> DOM, the way Slack draws the bot's messages.
 *
 * Pure functions: each builds detached nodes from its arguments only and never reads or writes
 * the document's content, so the page and the renderer's unit tests run the very same code.
 * Text reaches the DOM through text nodes and attributes only (never innerHTML), so nothing
 * the bot posts, or a user typed into a reason, can run as markup.
 *
 * Buttons are rendered inert: they carry their action in data-* attributes (data-confirm holds
 * the confirm dialog as JSON) and the page wires all of them with one delegated listener.
 *
 * window.BlockKit = {renderBlocks(blocks, ctx) -> Element, renderMrkdwn(text, ctx) -> Element,
 *                    renderText(textObject, ctx) -> Element, emojify(text) -> string}
 * ctx (optional): {users: {U123: "Ana"}, channels: {C123: "triage-releases"}} for mentions.
 */
(function (global) {
  "use strict";

  // The shortcodes the bot uses, and a few common ones; unknown ones stay as typed, like Slack.
  const EMOJI = {
    white_check_mark: "\u2705", heavy_check_mark: "\u2714\ufe0f", warning: "\u26a0\ufe0f",
    x: "\u274c", no_entry: "\u26d4", wastebasket: "\ud83d\uddd1\ufe0f", test_tube: "\ud83e\uddea",
    rocket: "\ud83d\ude80", red_circle: "\ud83d\udd34", large_green_circle: "\ud83d\udfe2",
    large_yellow_circle: "\ud83d\udfe1", large_blue_circle: "\ud83d\udd35", mag: "\ud83d\udd0d",
    left_right_arrow: "\u2194\ufe0f", arrow_up: "\u2b06\ufe0f", arrow_down: "\u2b07\ufe0f",
    arrow_right: "\u27a1\ufe0f", hourglass: "\u231b", hourglass_flowing_sand: "\u23f3",
    grey_question: "\u2754", question: "\u2753", exclamation: "\u2757",
    fast_forward: "\u23e9", rewind: "\u23ea", eyes: "\ud83d\udc40", boom: "\ud83d\udca5",
    rotating_light: "\ud83d\udea8", performing_arts: "\ud83c\udfad", tada: "\ud83c\udf89",
    memo: "\ud83d\udcdd", clipboard: "\ud83d\udccb", newspaper: "\ud83d\udcf0",
    calendar: "\ud83d\udcc6", spiral_calendar_pad: "\ud83d\uddd3\ufe0f", bell: "\ud83d\udd14",
    alarm_clock: "\u23f0", stopwatch: "\u23f1\ufe0f", bar_chart: "\ud83d\udcca",
    chart_with_upwards_trend: "\ud83d\udcc8", chart_with_downwards_trend: "\ud83d\udcc9",
    information_source: "\u2139\ufe0f", bulb: "\ud83d\udca1", gear: "\u2699\ufe0f",
    lock: "\ud83d\udd12", link: "\ud83d\udd17", package: "\ud83d\udce6", label: "\ud83c\udff7\ufe0f",
    fire: "\ud83d\udd25", sparkles: "\u2728", construction: "\ud83d\udea7", repeat: "\ud83d\udd01",
    robot_face: "\ud83e\udd16", wave: "\ud83d\udc4b", "+1": "\ud83d\udc4d",
    thumbsup: "\ud83d\udc4d", "-1": "\ud83d\udc4e", thumbsdown: "\ud83d\udc4e",
    heavy_minus_sign: "\u2796", shield: "\ud83d\udee1\ufe0f", scroll: "\ud83d\udcdc",
    large_orange_circle: "\ud83d\udfe0", white_circle: "\u26aa", zzz: "\ud83d\udca4",
  };
  const SAFE_URL = /^(https?:|mailto:)/i;
  const ENTITY = /&(lt|gt|amp);/g;
  const ENTITIES = { lt: "<", gt: ">", amp: "&" };
  // Leftmost wins; at one position the first alternative does. Bold, italic and strike need a
  // non-word character (or the edge) outside and a non-space inside, as in Slack.
  const INLINE = new RegExp([
    "`([^`\\n]+)`",                                                      // 1 code
    "<([^<>\\n]+)>",                                                     // 2 special token
    "(?<![\\p{L}\\p{N}_*])\\*(?!\\s)([^*\\n]+?)(?<!\\s)\\*(?![\\p{L}\\p{N}_*])",  // 3 bold
    "(?<![\\p{L}\\p{N}_])_(?!\\s)([^_\\n]+?)(?<!\\s)_(?![\\p{L}\\p{N}_])",       // 4 italic
    "(?<![\\p{L}\\p{N}_~])~(?!\\s)([^~\\n]+?)(?<!\\s)~(?![\\p{L}\\p{N}_~])",     // 5 strike
  ].join("|"), "gu");

  function el(tag, className, attrs) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== undefined && value !== null) node.setAttribute(key, String(value));
    }
    return node;
  }

  function decode(text) {
    return text.replace(ENTITY, (_, name) => ENTITIES[name]);
  }

  function emojify(text) {
    return String(text).replace(/:([a-z0-9_+-]+):/g,
      (match, name) => (Object.hasOwn(EMOJI, name) ? EMOJI[name] : match));
  }

  function textNode(raw) {
    return document.createTextNode(emojify(decode(raw)));
  }

  /* <@U1>, <#C1|name>, <!date^...|fallback>, <https://x|label>; anything else stays literal
     (bots often write usage lines such as `<model>` unescaped). */
  function renderToken(body, ctx) {
    const bar = body.indexOf("|");
    const target = bar < 0 ? body : body.slice(0, bar);
    const label = bar < 0 ? null : decode(body.slice(bar + 1));
    const users = (ctx && ctx.users) || {};
    const channels = (ctx && ctx.channels) || {};
    if (target.startsWith("@")) {
      const id = target.slice(1);
      const span = el("span", "bk-mention", { "data-user-id": id });
      span.textContent = "@" + (users[id] || label || id);
      return span;
    }
    if (target.startsWith("#")) {
      const id = target.slice(1);
      const span = el("span", "bk-channel-ref", { "data-channel-id": id });
      span.textContent = "#" + (channels[id] || label || id);
      return span;
    }
    if (target.startsWith("!date^")) {
      const seconds = Number(target.split("^")[1]);
      const time = el("time", "bk-date", Number.isFinite(seconds)
        ? { datetime: new Date(seconds * 1000).toISOString() } : {});
      time.textContent = label || target;
      return time;
    }
    if (target.startsWith("!subteam^")) {
      const span = el("span", "bk-mention");
      span.textContent = label || "@" + target.slice(9);
      return span;
    }
    if (target.startsWith("!")) {
      const span = el("span", "bk-mention");
      span.textContent = "@" + (label || target.slice(1));
      return span;
    }
    const url = decode(target);
    if (SAFE_URL.test(url)) {
      const a = el("a", "bk-link", { href: url, target: "_blank", rel: "noopener noreferrer" });
      a.textContent = label || url;
      return a;
    }
    return document.createTextNode("<" + decode(body) + ">");
  }

  function renderInline(text, ctx, parent) {
    let last = 0;
    for (const m of Array.from(text.matchAll(INLINE))) {
      if (m.index > last) parent.append(textNode(text.slice(last, m.index)));
      if (m[1] !== undefined) {
        const code = el("code", "bk-code");
        code.textContent = decode(m[1]);
        parent.append(code);
      } else if (m[2] !== undefined) {
        parent.append(renderToken(m[2], ctx));
      } else {
        const tag = m[3] !== undefined ? "b" : m[4] !== undefined ? "i" : "s";
        const inner = el(tag);
        renderInline(m[3] ?? m[4] ?? m[5], ctx, inner);
        parent.append(inner);
      }
      last = m.index + m[0].length;
    }
    if (last < text.length) parent.append(textNode(text.slice(last)));
  }

  /* Lines starting with "&gt; " (or a raw ">") are a quote; everything else flows inline. */
  function renderProse(text, ctx, parent) {
    const lines = text.split("\n");
    let i = 0;
    while (i < lines.length) {
      if (/^(&gt;|>)/.test(lines[i])) {
        const quote = el("blockquote", "bk-quote");
        const quoted = [];
        while (i < lines.length && /^(&gt;|>)/.test(lines[i])) {
          quoted.push(lines[i].replace(/^(&gt;|>) ?/, ""));
          i += 1;
        }
        renderInline(quoted.join("\n"), ctx, quote);
        parent.append(quote);
        continue;
      }
      const run = [];
      while (i < lines.length && !/^(&gt;|>)/.test(lines[i])) {
        run.push(lines[i]);
        i += 1;
      }
      renderInline(run.join("\n"), ctx, parent);
    }
  }

  function renderMrkdwn(text, ctx) {
    const root = el("span", "bk-mrkdwn");
    const source = String(text ?? "");
    const fence = /```([\s\S]*?)```/g;
    let last = 0;
    for (const m of source.matchAll(fence)) {
      // Slack drops the line break next to a fence: the <pre> is a block already.
      const before = source.slice(last, m.index).replace(/\n$/, "");
      if (before) renderProse(before, ctx, root);
      const pre = el("pre", "bk-pre");
      pre.textContent = decode(m[1].replace(/^\n/, ""));
      root.append(pre);
      last = m.index + m[0].length;
      if (source[last] === "\n") last += 1;
    }
    if (last < source.length) renderProse(source.slice(last), ctx, root);
    return root;
  }

  /* A text object: mrkdwn is formatted; plain_text is literal apart from emoji shortcodes. */
  function renderText(obj, ctx) {
    if (!obj) return el("span");
    if (obj.type === "mrkdwn") return renderMrkdwn(obj.text, ctx);
    const span = el("span", "bk-plain");
    span.textContent = obj.emoji === false ? String(obj.text ?? "") : emojify(obj.text ?? "");
    return span;
  }

  function plainOf(obj) {
    return obj ? emojify(String(obj.text ?? "")) : "";
  }

  function renderButton(element, blockId) {
    const style = element.style === "primary" || element.style === "danger" ? element.style : "";
    const className = "bk-button" + (style ? " bk-" + style : "");
    const label = plainOf(element.text);
    if (element.url && SAFE_URL.test(element.url)) {
      const a = el("a", className, { href: element.url, target: "_blank",
        rel: "noopener noreferrer" });
      a.textContent = label;
      return a;
    }
    const button = el("button", className, {
      type: "button",
      "data-action-id": element.action_id ?? "",
      "data-block-id": blockId ?? "",
      "data-value": element.value ?? "",
      "data-style": style || null,
      "data-confirm": element.confirm ? JSON.stringify(element.confirm) : null,
      "aria-haspopup": element.confirm ? "dialog" : null,
      "aria-label": element.accessibility_label || null,
    });
    button.textContent = label;
    return button;
  }

  function unsupported(kind, type) {
    const span = el("span", "bk-unsupported");
    span.textContent = `[${kind} "${type}" is not shown in the sandbox]`;
    return span;
  }

  function renderElement(element, blockId, ctx) {
    if (!element) return el("span");
    switch (element.type) {
      case "button":
        return renderButton(element, blockId);
      case "image":
        return el("img", "bk-image-element", { src: SAFE_URL.test(element.image_url || "")
          ? element.image_url : null, alt: element.alt_text ?? "" });
      case "mrkdwn":
      case "plain_text":
        return renderText(element, ctx);
      default:
        return unsupported("element", element.type);
    }
  }

  function renderSection(block, ctx) {
    const node = el("div", "bk-section");
    const body = el("div", "bk-section-body");
    if (block.text) {
      const text = el("div", "bk-section-text");
      text.append(renderText(block.text, ctx));
      body.append(text);
    }
    if (Array.isArray(block.fields) && block.fields.length) {
      const grid = el("div", "bk-fields");
      for (const field of block.fields) {
        const cell = el("div", "bk-field");
        cell.append(renderText(field, ctx));
        grid.append(cell);
      }
      body.append(grid);
    }
    node.append(body);
    if (block.accessory) {
      const side = el("div", "bk-accessory");
      side.append(renderElement(block.accessory, block.block_id, ctx));
      node.append(side);
    }
    return node;
  }

  function renderBlock(block, ctx) {
    let node;
    switch (block && block.type) {
      case "header":
        node = el("h3", "bk-header");
        node.textContent = plainOf(block.text);
        break;
      case "section":
        node = renderSection(block, ctx);
        break;
      case "context":
        node = el("div", "bk-context");
        for (const element of block.elements || []) {
          const item = el("span", "bk-context-item");
          item.append(renderElement(element, block.block_id, ctx));
          node.append(item);
        }
        break;
      case "divider":
        node = el("hr", "bk-divider");
        break;
      case "actions":
        node = el("div", "bk-actions", { role: "group", "aria-label": "Actions" });
        for (const element of block.elements || []) {
          node.append(renderElement(element, block.block_id, ctx));
        }
        break;
      case "image":
        node = el("figure", "bk-image");
        node.append(el("img", null, { src: SAFE_URL.test(block.image_url || "")
          ? block.image_url : null, alt: block.alt_text ?? "" }));
        if (block.title) {
          const caption = el("figcaption");
          caption.textContent = plainOf(block.title);
          node.append(caption);
        }
        break;
      default:
        node = el("div", "bk-block");
        node.append(unsupported("block", block && block.type));
    }
    node.setAttribute("data-block-type", (block && block.type) || "unknown");
    if (block && block.block_id) node.setAttribute("data-block-id", block.block_id);
    return node;
  }

  function renderBlocks(blocks, ctx) {
    const root = el("div", "bk-blocks");
    for (const block of blocks || []) root.append(renderBlock(block, ctx));
    return root;
  }

  global.BlockKit = Object.freeze({ renderBlocks, renderMrkdwn, renderText, emojify,
    plainOf });
})(window);
