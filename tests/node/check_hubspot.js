// Check HubSpot request bodies against HubSpot's published API client (@hubspot/api-client, generated
// from HubSpot's OpenAPI specs). Usage: node check_hubspot.js < requests.json  -> JSON report on stdout.
//
// Input: [{"method": "POST", "path": "/crm/v3/pipelines/0-136", "body": {...}}, ...]
// For each request the report gives the client's endpoint it matches (path template and HTTP method,
// read from the generated *Api.js request factories), the body model that endpoint serializes, and
// every problem of the body against that model: unknown attribute, missing required attribute (from
// the model's .d.ts: an attribute without `?`), wrong type, or a value outside an enum.
"use strict";
const fs = require("fs");
const path = require("path");

const CODEGEN = path.join(path.dirname(require.resolve("@hubspot/api-client/package.json")), "lib", "codegen", "crm");
const AREAS = ["properties", "pipelines"];

function endpoints() {
  const out = [];
  for (const area of AREAS) {
    const dir = path.join(CODEGEN, area, "apis");
    for (const file of fs.readdirSync(dir).filter((f) => /Api\.js$/.test(f))) {
      const src = fs.readFileSync(path.join(dir, file), "utf8");
      // One request factory per operation: path, then method, then (for a body) the serialized model.
      const re = /const localVarPath = '([^']+)'[\s\S]*?HttpMethod\.(\w+)\)([\s\S]*?)return requestContext;/g;
      let m;
      while ((m = re.exec(src))) {
        const body = /ObjectSerializer\.serialize\(\w+, "(\w+)", ""\), contentType\)/.exec(m[3]);
        out.push({ area, api: file.replace(/\.js$/, ""), template: m[1], method: m[2], model: body ? body[1] : null });
      }
    }
  }
  return out;
}

function matches(template, p) {
  const re = new RegExp("^" + template.replace(/\{[^}]+\}/g, "[^/]+") + "$");
  return re.test(p);
}

function loadModel(area, name) {
  const base = path.join(CODEGEN, area, "models", name);
  if (!fs.existsSync(base + ".js")) return null;
  const mod = require(base + ".js");
  const dts = fs.readFileSync(base + ".d.ts", "utf8");
  const required = new Set();
  const re = /^\s+'(\w+)'(\?)?:/gm;
  let m;
  while ((m = re.exec(dts))) if (!m[2]) required.add(m[1]);
  const enums = {};
  for (const [k, v] of Object.entries(mod)) if (k !== name && typeof v === "object") enums[k] = Object.values(v);
  return { attrs: mod[name].getAttributeTypeMap(), required, enums };
}

function check(area, model, value, where, problems) {
  const m = loadModel(area, model);
  if (!m) return problems.push(`${where}: no model ${model} in @hubspot/api-client`);
  if (value === null || typeof value !== "object" || Array.isArray(value)) return problems.push(`${where}: ${model} must be an object`);
  const byBase = Object.fromEntries(m.attrs.map((a) => [a.baseName, a]));
  for (const k of Object.keys(value)) if (!(k in byBase)) problems.push(`${where}.${k}: not an attribute of ${model}`);
  for (const r of m.required) if (!(r in value)) problems.push(`${where}: required attribute ${r} of ${model} missing`);
  for (const a of m.attrs) if (a.baseName in value) checkType(area, a.type, value[a.baseName], `${where}.${a.baseName}`, problems, m.enums);
}

function checkType(area, type, v, where, problems, enums) {
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr) {
    if (!Array.isArray(v)) return problems.push(`${where}: must be an array of ${arr[1]}`);
    return v.forEach((x, i) => checkType(area, arr[1], x, `${where}[${i}]`, problems, enums));
  }
  const map = /^\{ \[key: string\]: (\w+); \}$/.exec(type);
  if (map) {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return problems.push(`${where}: must be a map`);
    return Object.entries(v).forEach(([k, x]) => checkType(area, map[1], x, `${where}.${k}`, problems, enums));
  }
  if (type in enums) {
    if (!enums[type].includes(v)) problems.push(`${where}: ${JSON.stringify(v)} is not one of ${type} (${enums[type].join(", ")})`);
    return;
  }
  const prim = { string: "string", number: "number", boolean: "boolean" }[type];
  if (prim) {
    if (typeof v !== prim) problems.push(`${where}: ${JSON.stringify(v)} is not a ${type}`);
    return;
  }
  if (type === "Date") {
    if (typeof v !== "string" || isNaN(Date.parse(v))) problems.push(`${where}: not a date-time`);
    return;
  }
  check(area, type, v, where, problems);
}

const requests = JSON.parse(fs.readFileSync(0, "utf8"));
const table = endpoints();
const info = JSON.parse(fs.readFileSync(require.resolve("@hubspot/api-client/package.json")));
const results = requests.map((r) => {
  // The client exposes some operations twice (e.g. BasicApi and PipelinesApi): one operation, one entry.
  const seen = new Set();
  const found = table.filter((e) => e.method === r.method && matches(e.template, r.path.split("?")[0]))
    .filter((e) => !seen.has(`${e.method} ${e.template} ${e.model}`) && seen.add(`${e.method} ${e.template} ${e.model}`));
  const problems = [];
  if (found.length !== 1) {
    problems.push(`${r.method} ${r.path}: ${found.length} endpoints of @hubspot/api-client match`);
    return { method: r.method, path: r.path, endpoint: null, model: null, problems };
  }
  const e = found[0];
  if (e.model === null) {
    if (r.body !== undefined && r.body !== null) problems.push(`${r.method} ${e.template} takes no body`);
  } else {
    check(e.area, e.model, r.body, e.model, problems);
  }
  return { method: r.method, path: r.path, endpoint: `${e.api}: ${e.method} ${e.template}`, model: e.model, problems };
});
process.stdout.write(JSON.stringify({ version: info.version, node_version: process.version, endpoints: table.length, results }, null, 1));
