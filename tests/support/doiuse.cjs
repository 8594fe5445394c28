// Prints, as JSON, which features of an HTML file Gmail, Outlook and Apple
// Mail do not support, from the Can I email data (npm @jsx-email/doiuse-email,
// which .ci/test installs under target/tools/): { "feature": ["client", …] }.
// Usage: NODE_PATH=target/tools/node_modules node tests/support/doiuse.cjs FILE
const { doIUseEmail } = require('@jsx-email/doiuse-email');
const { readFileSync } = require('fs');

const html = readFileSync(process.argv[2], 'utf8');
const result = doIUseEmail(html, { emailClients: ['gmail.*', 'outlook.*', 'apple-mail.*'] });
const unsupported = {};
for (const error of result.errors || []) {
  const match = /^`(.+?)` is not supported by `(.+?)`/.exec(error);
  if (!match) continue;
  const clients = (unsupported[match[1]] = unsupported[match[1]] || []);
  if (!clients.includes(match[2])) clients.push(match[2]);
}
for (const clients of Object.values(unsupported)) clients.sort();
console.log(JSON.stringify(unsupported));
