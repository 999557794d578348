// Encodes a text with Hugging Face's tokenizers.js and compares the ids with a .npy that
// `gpuinfo tokenize --out` wrote; prints one JSON line. Used by check.sh.
//     node compare.mjs TOKENIZER_JSON TOKENIZER_CONFIG_JSON TEXT OURS.npy
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Tokenizer } = require(require.resolve("@huggingface/tokenizers", { paths: [process.env.NODE_PATH ?? "."] }));
const [, , tokenizerPath, configPath, textPath, oursPath] = process.argv;

function readInt32Npy(path) {
  const buffer = readFileSync(path);
  const headerLength = buffer.readUInt16LE(8);
  const header = buffer.toString("latin1", 10, 10 + headerLength);
  if (!header.includes("'<i4'")) throw new Error(`${path}: not int32 (${header.trim()})`);
  const start = 10 + headerLength;
  return Array.from(new Int32Array(buffer.buffer.slice(buffer.byteOffset + start, buffer.byteOffset + buffer.length)));
}

const config = configPath && configPath !== "-" ? JSON.parse(readFileSync(configPath, "utf8")) : {};
const tokenizer = new Tokenizer(JSON.parse(readFileSync(tokenizerPath, "utf8")), config);
const started = process.hrtime.bigint();
const theirs = tokenizer.encode(readFileSync(textPath, "utf8")).ids;
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const ours = readInt32Npy(oursPath);
let first = -1;
for (let i = 0; i < Math.max(ours.length, theirs.length); i++) {
  if (ours[i] !== theirs[i]) { first = i; break; }
}
console.log(JSON.stringify({
  ids_tokenizers_js: theirs.length,
  ids_gpuinfo: ours.length,
  equal: first < 0,
  first_difference: first < 0 ? null : { at: first, tokenizers_js: theirs.slice(first, first + 6), gpuinfo: ours.slice(first, first + 6) },
  tokenizers_js_seconds: Math.round(seconds * 1000) / 1000,
}));
