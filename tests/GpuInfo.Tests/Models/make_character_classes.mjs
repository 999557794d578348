// Writes src/GpuInfo.Models/HuggingFaceCharacters.g.cs: the character classes Hugging Face's tokenizers library
// (the Rust crate, 0.22.2, through its Node binding @anush008/tokenizers 0.6.0) gives BERT's normalizer and
// pre-tokenizer, the Punctuation pre-tokenizer and the StripAccents normalizer, read off the library itself
// over every code point. They come from crates whose Unicode tables predate Unicode 9 (unicode_categories,
// unicode-normalization-alignments: so "\u0890", a format character of Unicode 14, survives clean_text, and
// "\u061D", a punctuation mark of Unicode 14, is no punctuation there), where .NET's categories are current:
//   - CleanTextRemoves: the code points BertNormalizer's clean_text drops (its is_control: Cc but tab,
//     line feed and carriage return, Cf, Co; and U+0000, U+FFFD). Other white space becomes ' '.
//   - NonspacingMarks: of the code points that NFD leaves as they are, those strip_accents drops (Mn).
//   - Punctuation: the code points BertPreTokenizer and the Punctuation pre-tokenizer isolate
//     (is_ascii_punctuation, or Unicode's P*).
//   - CombiningMarks: the code points StripAccents drops (Mn, Mc, Me).
//   - ScriptRanges: the script UnicodeScripts reads for each code point (its own table, Unicode's scripts with
//     Hiragana, Katakana and U+30FC read as Han), as ranges with a class number for each script.
//
//     NODE_PATH=/tmp/rusttok/node_modules node tests/GpuInfo.Tests/Models/make_character_classes.mjs
//
// Deterministic: rerunning it rewrites the same file.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const tk = require(require.resolve("@anush008/tokenizers", { paths: [process.env.NODE_PATH ?? "."] }));
const here = dirname(fileURLToPath(import.meta.url));
const clean = tk.bertNormalizer({ cleanText: true, handleChineseChars: false, stripAccents: false, lowercase: false });
const strip = tk.bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: true, lowercase: false });
const bert = tk.bertPreTokenizer();
const accents = tk.stripAccentsNormalizer();
const removes = [], marks = [], punctuation = [], combining = [];
for (let c = 0; c <= 0x10ffff; c++) {
  if (c >= 0xd800 && c <= 0xdfff) continue;
  const s = String.fromCodePoint(c);
  if (clean.normalizeString("a" + s + "a") === "aa") removes.push(c);
  if (s.normalize("NFD") === s && strip.normalizeString("a" + s) === "a") marks.push(c);
  if (accents.normalizeString("a" + s) === "a") combining.push(c);
  if (bert.preTokenizeString("a" + s + "a").length === 3) punctuation.push(c);
}

// UnicodeScripts: the library's script of each code point (Hiragana, Katakana and U+30FC read as Han), found by
// its cuts. ' ' and code points its table lacks (unassigned ones) are in every script ("Any": a piece of such alone
// comes out as no piece at all); two neighbouring others share a script where it does not cut between them, and the
// runs that share one are found by cutting a representative of each against the classes so far.
const scriptsJson = JSON.stringify({ version: "1.0", truncation: null, padding: null, added_tokens: [], normalizer: null, pre_tokenizer: { type: "UnicodeScripts" }, post_processor: null, decoder: null, model: { type: "WordLevel", vocab: { "[UNK]": 0 }, unk_token: "[UNK]" } });
const scripts = tk.Tokenizer.fromString(scriptsJson).getPreTokenizer();
const cuts = (text) => scripts.preTokenizeString(text).length;
const same = (a, b) => cuts(String.fromCodePoint(a) + String.fromCodePoint(b)) === 1;
const runs = []; // [first, last, class]; class -1: Any
let lastScripted = -1;
for (let c = 0; c <= 0x10ffff; c++) {
  if (c >= 0xd800 && c <= 0xdfff) continue;
  const any = cuts(String.fromCodePoint(c)) === 0;
  const last = runs[runs.length - 1];
  const joins = last && (any ? last[2] === -1 : last[2] !== -1 && same(lastScripted, c));
  if (joins && (last[1] === c - 1 || (last[1] === 0xd7ff && c === 0xe000))) last[1] = c;
  else runs.push([c, c, any ? -1 : 0]);
  if (!any) lastScripted = c;
}
const classes = [];
const scriptRuns = runs.map(([first, last, k]) => {
  if (k === -1) return [first, last, -1];
  let found = classes.findIndex((representative) => same(representative, first));
  if (found < 0) { classes.push(first); found = classes.length - 1; }
  return [first, last, found];
});

const ranges = (points) => {
  const out = [];
  for (const c of points) {
    const last = out[out.length - 1];
    if (last && last[1] === c - 1) last[1] = c;
    else out.push([c, c]);
  }
  return out;
};
const hex = (c) => "0x" + c.toString(16).toUpperCase().padStart(4, "0");
const table = (name, points) => {
  const rs = ranges(points);
  const lines = [];
  for (let i = 0; i < rs.length; i += 6) lines.push("        " + rs.slice(i, i + 6).map(([a, b]) => `${hex(a)}, ${hex(b)},`).join(" "));
  return `    /// <summary>${points.length} code points in ${rs.length} ranges, each as its first and last.</summary>\n    private static readonly int[] ${name} =\n    [\n${lines.join("\n")}\n    ];\n`;
};

const scriptTable = () => {
  const lines = [];
  for (let i = 0; i < scriptRuns.length; i += 5) lines.push("        " + scriptRuns.slice(i, i + 5).map(([a, b, k]) => `${hex(a)}, ${hex(b)}, ${k},`).join(" "));
  return `    /// <summary>The library's UnicodeScripts script of every code point, as ${scriptRuns.length} ranges (first, last, script class: ${classes.length} classes, numbered in order of first code point; -1 for those in every script, ' ' and unassigned code points).</summary>\n    private static readonly int[] ScriptRanges =\n    [\n${lines.join("\n")}\n    ];\n`;
};

const source = `// <auto-generated>
// Written by tests/GpuInfo.Tests/Models/make_character_classes.mjs from Hugging Face's tokenizers 0.22.2: do not edit.
// </auto-generated>
namespace GpuInfo.Models;

internal static partial class HuggingFaceCharacters
{
${table("CleanTextRemovesRanges", removes)}
${table("NonspacingMarkRanges", marks)}
${table("PunctuationRanges", punctuation)}
${table("CombiningMarkRanges", combining)}
${scriptTable()}}
`;
writeFileSync(join(here, "../../../src/GpuInfo.Models/HuggingFaceCharacters.g.cs"), source);
console.log(`removes ${removes.length}, nonspacing marks ${marks.length}, punctuation ${punctuation.length}, combining marks ${combining.length}, ${scriptRuns.length} script ranges of ${classes.length} scripts`);
