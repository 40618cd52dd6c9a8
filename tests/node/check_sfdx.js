// Resolve and convert an SFDX source project with Salesforce's own source-deploy-retrieve (SDR), offline.
// Usage: node check_sfdx.js PROJECT_DIR OUT_DIR   -> one JSON report on stdout.
//
// The report says, for the Python test to assert on: every file under the package directory and the
// component SDR resolves it to (files SDR cannot place are listed as unresolved), the (type, member)
// pairs of the component set next to those of the project's manifest/package.xml, and every file of
// the metadata-format tree SDR's converter writes to OUT_DIR.
"use strict";
const fs = require("fs");
const path = require("path");
const sdr = require("@salesforce/source-deploy-retrieve");

function walk(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out.sort();
}

function filesOf(component) {
  const files = [];
  if (component.xml) files.push(component.xml);
  if (component.content) files.push(...(fs.statSync(component.content).isDirectory() ? walk(component.content) : [component.content]));
  for (const child of component.getChildren ? component.getChildren() : []) files.push(...filesOf(child));
  return files;
}

async function main() {
  const [project, outDir] = process.argv.slice(2);
  const pkgDir = path.join(project, "force-app");
  const resolver = new sdr.MetadataResolver();
  const resolved = {};
  const components = [];
  for (const c of resolver.getComponentsFromPath(pkgDir)) {
    components.push({ type: c.type.name, fullName: c.fullName });
    for (const f of filesOf(c)) resolved[path.relative(project, f)] = `${c.type.name}:${c.fullName}`;
    for (const child of c.getChildren()) components.push({ type: child.type.name, fullName: child.fullName });
  }
  const unresolved = walk(pkgDir).map((f) => path.relative(project, f)).filter((f) => !(f in resolved));

  const set = sdr.ComponentSet.fromSource(pkgDir);
  const manifest = await set.getObject();
  const fromSet = [];
  for (const t of manifest.Package.types) for (const m of t.members) fromSet.push(`${t.name}:${m}`);

  const converter = new sdr.MetadataConverter();
  await converter.convert(set, "metadata", { type: "directory", outputDirectory: outDir, genUniqueDir: false });
  const converted = walk(outDir).map((f) => path.relative(outDir, f));
  const info = JSON.parse(fs.readFileSync(require.resolve("@salesforce/source-deploy-retrieve/package.json")));
  process.stdout.write(JSON.stringify({
    sdr_version: info.version,
    node_version: process.version,
    components,
    resolved,
    unresolved,
    component_set_members: fromSet.sort(),
    component_set_version: manifest.Package.version,
    converted,
  }, null, 1));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(1);
});
