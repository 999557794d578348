// Writes rust_tokenizers.json beside itself: what Hugging Face's tokenizers library itself (the Rust
// crate, 0.22.2, through its Node binding @anush008/tokenizers 0.6.0) makes of texts, where its
// JavaScript port (make_tokenizer_templates.mjs) lacks a feature or differs:
//   - pre_tokenizers: the pieces (UTF-16 offsets) every Split behavior, invert, Digits (which reads
//     every char::is_numeric as a digit: tokenizers.js reads only ASCII ones), Punctuation (ASCII
//     punctuation and Unicode's P*), WhitespaceSplit, ByteLevel's regex and Sequences of them cut a
//     text into;
//   - normalizers: the text NFC, NFD, NFKC, NFKD and Lowercase (per code point: no final sigma, İ to
//     i + U+0307) make of one;
//   - sentencepiece_bpe: the ids sp_bpe_tokenizer.json gives with a Metaspace pre-tokenizer, each
//     prepend_scheme with split true and false, and with the character map and Replace(' {2,}', ' ')
//     before it, as transformers' T5 converter writes a BPE model (VietAI's envit5);
//   - precompiled_normalizers: the text SentencePiece's nmt_nfkc character map (sp_unigram_nfkc_tokenizer.json's
//     Precompiled) makes alone and in T5's, newer converters' and ALBERT's sequences, Strip, StripAccents,
//     and Nmt alone and in older T5 files' sequence;
//   - bpe_models: the ids the byte-level BPE of vocab.json and merges.txt gives with steps after its ByteLevel that
//     cut inside characters (Falcon's Digits; with their decoding), with an unk_token
//     (bytes outside its vocabulary, each unknown or fused), as a CLIP-like model whose every piece
//     also has an end_of_word_suffix "</w>" form, with a prefix space, and as a character-level BPE
//     (no ByteLevel step: a Whitespace, a WhitespaceSplit or no pre-tokenizer, with and without an unk_token);
//   - word_piece: the ids (and their decoding) a WordPiece model gives under BERT's normalizer (uncased, cased,
//     stripping accents, none of its steps) and pre-tokenizer, Punctuation alone, CharDelimiterSplit, a short
//     max_input_chars_per_word, another continuing_subword_prefix, and without its unk_token (Rust's error), with
//     BERT's special tokens and added tokens found in the normalized text;
//   - word_level: the ids a WordLevel model (a word per token, else its unk_token) gives under WhitespaceSplit,
//     Whitespace, and Whitespace then Digits, with an added token;
//   - unigram: the ids sp_unigram_tokenizer.json (make_sentencepiece.py) gives as written, with only a
//     Metaspace pre-tokenizer, and without its post_processor (runs of unknown characters fuse into
//     one unknown token); and sp_unigram_nfkc_tokenizer.json's (a character map, byte fallback) under
//     T5's, XLM-R's and ALBERT's normalizers and pre-tokenizers and each Metaspace scheme.
// It also checks that every id tokenizer_templates.json holds (tokenizers.js's) is the Rust library's,
// and fails if one is not. The C# tests (HuggingFaceRustTests) must reproduce every piece, text and id.
//
//     cd /tmp/rusttok && npm install @anush008/tokenizers@0.6.0
//     NODE_PATH=/tmp/rusttok/node_modules node tests/GpuInfo.Tests/Models/make_rust_tokenizers.mjs
//
// Deterministic: rerunning it rewrites the same file.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { normalizerCases, normalizerTexts as sharedNormalizerTexts } from "./normalizer_cases.mjs";

const require = createRequire(import.meta.url);
const { Tokenizer } = require(require.resolve("@anush008/tokenizers", { paths: [process.env.NODE_PATH ?? "."] }));
const here = dirname(fileURLToPath(import.meta.url));
const vocab = JSON.parse(readFileSync(join(here, "vocab.json"), "utf8"));
const merges = readFileSync(join(here, "merges.txt"), "utf8").split("\n").slice(1).filter((m) => m.length > 0);
const bpe = { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab, merges };
const tokenizerJson = (parts) => JSON.stringify({ version: "1.0", truncation: null, padding: null, added_tokens: [], normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, model: bpe, ...parts });

// Code point offsets (Rust's) as UTF-16 offsets (.NET's).
const utf16 = (text) => {
  const at = [0];
  for (const c of text) at.push(at[at.length - 1] + c.length);
  return at;
};

const split = (pattern, behavior, invert = false) => ({ type: "Split", pattern, behavior, invert });
const regex = (r) => ({ Regex: r });
const byteLevel = (useRegex) => ({ type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: useRegex });
const llama3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const preTokenizers = {
  isolated_spaces: split(regex("\\s+"), "Isolated"),
  removed_spaces: split(regex("\\s+"), "Removed"),
  merged_with_previous_space: split({ String: " " }, "MergedWithPrevious"),
  merged_with_next_space: split({ String: " " }, "MergedWithNext"),
  contiguous_punctuation: split(regex("\\p{P}"), "Contiguous"),
  merged_with_previous_punctuation: split(regex("\\p{P}"), "MergedWithPrevious"),
  merged_with_next_punctuation: split(regex("\\p{P}"), "MergedWithNext"),
  inverted_isolated_words: split(regex("\\p{L}+"), "Isolated", true),
  inverted_removed_words: split(regex("\\p{L}+"), "Removed", true),
  inverted_merged_with_next_words: split(regex("\\p{L}+"), "MergedWithNext", true),
  digits: { type: "Digits", individual_digits: false },
  individual_digits: { type: "Digits", individual_digits: true },
  gpt2: byteLevel(true),
  llama3: { type: "Sequence", pretokenizers: [split(regex(llama3), "Isolated"), byteLevel(false)] },
  command_r: { type: "Sequence", pretokenizers: [{ type: "Digits", individual_digits: true }, byteLevel(true)] },
  gemma2: split({ String: " " }, "MergedWithPrevious"),
  punctuation: { type: "Punctuation", behavior: "Isolated" },
  contiguous_punctuation_type: { type: "Punctuation", behavior: "Contiguous" },
  merged_with_previous_punctuation_type: { type: "Punctuation", behavior: "MergedWithPrevious" },
  whitespace_split: { type: "WhitespaceSplit" },
  falcon: { type: "Sequence", pretokenizers: [{ type: "Punctuation", behavior: "Contiguous" }, byteLevel(true), { type: "Digits", individual_digits: false }] },
  bytes_merged_with_previous_digits: { type: "Sequence", pretokenizers: [byteLevel(true), split(regex("\\p{N}"), "MergedWithPrevious")] },
  bert: { type: "BertPreTokenizer" },
  char_delimiter: { type: "CharDelimiterSplit", delimiter: "\n" },
  char_delimiter_astral: { type: "CharDelimiterSplit", delimiter: "\u{1f600}" },
  unicode_scripts: { type: "UnicodeScripts" },
  // Pieces of spaces alone, and spaces before a piece's first scripted character, come out of UnicodeScripts as nothing.
  digits_then_scripts: { type: "Sequence", pretokenizers: [{ type: "Digits", individual_digits: true }, { type: "UnicodeScripts" }, { type: "Punctuation", behavior: "Isolated" }, split({ String: " " }, "Isolated")] },
  scripts_then_splits: { type: "Sequence", pretokenizers: [{ type: "UnicodeScripts" }, { type: "Digits", individual_digits: true }, split(regex("\\n+"), "Isolated"), split(regex(" +"), "Isolated")] },
  scripts_after_bytes: { type: "Sequence", pretokenizers: [byteLevel(false), { type: "UnicodeScripts" }] },
};
const preTexts = [
  "Hello,  world!! It's 2024: x=3.14159; 12345 apples...\n\n  indented\tline \r\nend ",
  "a𝔘b 😀abc x😀y 𝟏𝟐𝟑 ²³ ٣٤٥ Ⅻ ½ (𝔘𝔫) 'LL 1😀2 中文です — 𝑥²+𝑦²  😀  \n 😀",
  "  leading and trailing  ",
  "«quoted» «»、。！ $5 +1 =2 ^x `a` |b| ~c ¿qué? €3 £4 @me #tag %d &amp; _u_ {a}[b](c) \\ / 𝄞 ⁂ ‽",
  "tab\tnbsp\u00a0ideo\u3000line\u2028para\u2029nel\u0085vt\u000bff\u000c thin\u2009zw\u200bend",
  "...,,!!",
  // Punctuation of Unicode 9 and later, which the library's tables (older) do not hold, and characters whose category changed.
  "a\u061db \u2e50x\u2e5d y\u166dz \u{111c9}w \u{1e95e}v \u058a-\u05be",
  // Scripts: kana and U+30FC read as Han, Hangul, combining marks (Inherited), unassigned code points (in every script).
  "  \u3069\u3053\u3067\u751f\u308c\u3002Yes \u30b3\u30fc\u30d2\u30fc \ud55c\uad6d\uc5b4 \u0410\u0411 x\u0301y 1 2  3 \u0378a\u0378 \u{1f600}\u{1f600}b",
  "",
];
const pre_tokenizers = Object.entries(preTokenizers).map(([name, pre_tokenizer]) => {
  const pre = Tokenizer.fromString(tokenizerJson({ pre_tokenizer })).getPreTokenizer();
  return {
    name,
    pre_tokenizer,
    texts: preTexts.map((text) => {
      const at = utf16(text);
      return { text, pieces: pre.preTokenizeString(text).map(([, [start, end]]) => [at[start], at[end]]) };
    }),
  };
});

// normalizer_cases.mjs's texts, and capitals whose lowercase differs between Rust's per code point
// and JavaScript's toLowerCase (a word-final sigma) or is two code points (U+0130).
const normalizerTexts = [
  ...sharedNormalizerTexts,
  "\u0130STANBUL \u00c7A\u011e \u039f\u0394\u039f\u03a3 \u03a3\u039f\u03a6\u0399\u0391\u03a3 \u{1d400}\u{1d401} \u{10400}\u{10401}x \u1e9e \u0049\u0307",
];
const normalizers = Object.entries(normalizerCases).map(([name, normalizer]) => {
  const n = Tokenizer.fromString(tokenizerJson({ normalizer })).getNormalizer();
  return { name, normalizer, texts: normalizerTexts.map((text) => ({ text, normalized: n.normalizeString(text) })) };
});

// The SentencePiece-style BPE with a Metaspace pre-tokenizer: each prepend_scheme, splitting into
// words or not, on SentencePiece's texts and on texts with runs of spaces and added tokens.
const spJson = JSON.parse(readFileSync(join(here, "sp_bpe_tokenizer.json"), "utf8"));
const spTexts = [
  ...JSON.parse(readFileSync(join(here, "sentencepiece.json"), "utf8")).texts.map((t) => t.text),
  "before <s> after</s>then <unk>",
  " <s> a",
  "  two  spaces   three    four\n\nlines  ",
];
const sentencepiece_bpe = [];
for (const scheme of ["first", "always", "never"]) {
  for (const splits of [true, false]) {
    const pre_tokenizer = { type: "Metaspace", replacement: "\u2581", prepend_scheme: scheme, split: splits };
    const tokenizer = Tokenizer.fromString(JSON.stringify({ ...spJson, normalizer: null, pre_tokenizer }));
    const texts = [];
    for (const text of spTexts) texts.push({ text, ids: (await tokenizer.encode(text, null, { addSpecialTokens: true })).getIds() });
    sentencepiece_bpe.push({ name: `metaspace_${scheme}${splits ? "_split" : ""}`, pre_tokenizer, texts });
  }
}

const unigramJson = JSON.parse(readFileSync(join(here, "sp_unigram_tokenizer.json"), "utf8"));
const unigramTexts = [...spTexts, "日本語のテキスト 🤖🤖 ÜÖÄ x\t\ty qq", "zzz  Ω≈ç√∫  end", "In 2024, 3.14 (pi) and x=12: done!", ""];
const unigramVariants = {
  as_converted: {},
  metaspace_only: { normalizer: null, pre_tokenizer: { type: "Metaspace", replacement: "\u2581", prepend_scheme: "always", split: true } },
  no_post_processor: { post_processor: null },
  // Steps beside the Metaspace: older T5 files' Digits and Punctuation after it, a Whitespace before it or alone.
  metaspace_digits_punctuation: { pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "Metaspace", replacement: "\u2581", add_prefix_space: true }, { type: "Digits", individual_digits: true }, { type: "Punctuation", behavior: "Isolated" }] } },
  whitespace_then_metaspace: { pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "Whitespace" }, { type: "Metaspace", replacement: "\u2581", prepend_scheme: "first", split: true }] } },
  whitespace_only: { pre_tokenizer: { type: "Whitespace" } },
};
const unigram = [];
for (const [name, parts] of Object.entries(unigramVariants)) {
  const json = { ...unigramJson, ...parts };
  const tokenizer = Tokenizer.fromString(JSON.stringify(json));
  const texts = [];
  for (const text of unigramTexts) texts.push({ text, ids: (await tokenizer.encode(text, null, { addSpecialTokens: true })).getIds() });
  unigram.push({ name, normalizer: json.normalizer, pre_tokenizer: json.pre_tokenizer, post_processor: json.post_processor, texts });
}

// The Unigram model trained with SentencePiece's nmt_nfkc (T5's, ALBERT's, XLM-R's normalization) and
// byte fallback: its Precompiled normalizer on its own and in ALBERT's and newer converters' sequences,
// and the whole tokenizer under each Metaspace scheme. Its character map (317 KB of base64) is written
// here as CHARSMAP, for the tests to take from sp_unigram_nfkc_tokenizer.json.
const nfkcJson = JSON.parse(readFileSync(join(here, "sp_unigram_nfkc_tokenizer.json"), "utf8"));
const CHARSMAP = "<precompiled_charsmap of sp_unigram_nfkc_tokenizer.json>";
const charsmap = nfkcJson.normalizer.normalizers.find((n) => n.type === "Precompiled").precompiled_charsmap;
const withCharsmap = (node) => JSON.parse(JSON.stringify(node).replaceAll(CHARSMAP, charsmap));
const precompiled = { type: "Precompiled", precompiled_charsmap: CHARSMAP };
const spaces = (content) => ({ type: "Replace", pattern: regex(" {2,}"), content });
const precompiledCases = {
  precompiled,
  t5: { type: "Sequence", normalizers: [precompiled, spaces(" ")] },
  newer_converter: { type: "Sequence", normalizers: [precompiled, { type: "Strip", strip_left: false, strip_right: true }, spaces("\u2581")] },
  albert: { type: "Sequence", normalizers: [{ type: "Replace", pattern: { String: "``" }, content: "\"" }, { type: "Replace", pattern: { String: "''" }, content: "\"" }, { type: "NFKD" }, { type: "StripAccents" }, { type: "Lowercase" }, precompiled, spaces(" ")] },
  strip_both: { type: "Strip", strip_left: true, strip_right: true },
  strip_accents: { type: "Sequence", normalizers: [{ type: "NFD" }, { type: "StripAccents" }] },
  bert_uncased: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  bert_cased: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: false },
  bert_strip_cased: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: false, strip_accents: true, lowercase: false },
  bert_lowercase_only: { type: "BertNormalizer", clean_text: false, handle_chinese_chars: false, strip_accents: false, lowercase: true },
  nmt: { type: "Nmt" },
  older_t5: { type: "Sequence", normalizers: [{ type: "Nmt" }, { type: "NFKC" }, spaces(" "), { type: "Lowercase" }] },
};
// Graphemes nmt_nfkc's map holds whole or only in part, graphemes of 6 bytes and more (read a character
// at a time), control and format characters, fullwidth and halfwidth forms, and quotes ALBERT replaces.
const precompiledTexts = [
  ...normalizerTexts,
  "e\u0301 e\u0301\u0302 e\u0301\u0302\u0303 \u2460\u0301 \u2460\u0301\u0302\u0303 \uff76\uff9e \uff8a\uff9f \u30ab\u3099 x\u0308\u0301 \u1100\u1161\u11a8\u11a8",
  "\u{1f468}\u200d\u{1f469}\u200d\u{1f467} \u{1f1eb}\u{1f1f7} \u{1f44d}\u{1f3fd} \u0915\u094d\u0937\u093f \u0e01\u0e33 \ufdfa \ufb2c \u3250 \u337b \u2122 \u2161",
  "tab\tnbsp\u00a0ideo\u3000zw\u200bsoft\u00adbom\ufeffnul\u0000bell\u0007\r\n  two  spaces ``quoted'' end  ",
  "\uff21\uff42\uff43\uff11\uff12 \uff08\uff09\uff01 \u00bd \u00b5 \u017f \u1e9b \u0132 \u01c4 \u2103 \u33a1 \u00c5\u0301",
  "a\u0001\u0008\u000b\u000e\u001f\u007f\u0080\u008f\u009f|\t\n\f\r\u1680\u200a\u200b\u200f\u2010\u2028\u2029\u2581\ufeff\ufffd|\u0085\u00a0\u3000 end",
  // BERT's classes where the library's (older) tables and current Unicode differ: format characters of Unicode 9 and
  // later (kept), nonspacing marks of Unicode 9 and later (kept by strip_accents), private use, CJK ideographs and the
  // gap the library leaves between its extension ranges (U+2B820 to U+2B91F), stacked accents.
  "x\u0890y\u08e2z\u{13430}w \u{e0001}t\u{e0020}g \ue000p\u{f0000}q \u00adsoft a\u0897b c\u1ab0d \u{1e4ec}e o\u0300\u0301\u0302 \u1734\u{1171e}",
  "\u4e2d\u6587x\u3400y\u{20000}z\u{2b81f}\u{2b820}\u{2b91f}\u{2b920}\uf900\u{2f800}\u{30000} \u3042\uac00 \u00c5\u0301\u1e9b\u0323",
];
const precompiled_normalizers = Object.entries(precompiledCases).map(([name, normalizer]) => {
  const n = Tokenizer.fromString(tokenizerJson({ normalizer: withCharsmap(normalizer) })).getNormalizer();
  return { name, normalizer, texts: precompiledTexts.map((text) => ({ text, normalized: n.normalizeString(text) })) };
});

const metaspaceOf = (scheme, splits) => ({ type: "Metaspace", replacement: "\u2581", prepend_scheme: scheme, split: splits });
const nfkcVariants = {
  nfkc_as_converted: {},
  nfkc_xlmr: { pre_tokenizer: metaspaceOf("always", true) },
  nfkc_first_split: { pre_tokenizer: metaspaceOf("first", true) },
  nfkc_never_whole: { pre_tokenizer: metaspaceOf("never", false) },
  nfkc_first_whitespace: { pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "WhitespaceSplit" }, metaspaceOf("first", true)] } },
  nfkc_newer_converter: { normalizer: precompiledCases.newer_converter },
  nfkc_albert: { normalizer: precompiledCases.albert },
};
const nfkcTexts = [...unigramTexts, ...precompiledTexts.slice(normalizerTexts.length), "\u65e5\u672c \u{1f916} \u00e9\u00e8 ``q'' \u0000x"];
for (const [name, parts] of Object.entries(nfkcVariants)) {
  const json = { ...nfkcJson, ...parts };
  const tokenizer = Tokenizer.fromString(JSON.stringify(withCharsmap(json)));
  const texts = [];
  for (const text of nfkcTexts) texts.push({ text, ids: (await tokenizer.encode(text, null, { addSpecialTokens: true })).getIds() });
  const written = (node) => JSON.parse(JSON.stringify(node ?? null).replaceAll(charsmap, CHARSMAP));
  unigram.push({ name, tokenizer: "sp_unigram_nfkc_tokenizer.json", normalizer: written(json.normalizer), pre_tokenizer: json.pre_tokenizer, post_processor: json.post_processor, texts });
}

// A SentencePiece-style BPE as transformers' T5 converter writes one (the character map and runs of spaces
// made one, then Metaspace in its older add_prefix_space form), on SentencePiece's and the map's texts.
{
  const normalizer = precompiledCases.t5;
  const pre_tokenizer = { type: "Metaspace", replacement: "\u2581", add_prefix_space: true };
  const tokenizer = Tokenizer.fromString(JSON.stringify({ ...spJson, normalizer: withCharsmap(normalizer), pre_tokenizer }));
  const texts = [];
  for (const text of [...spTexts, ...precompiledTexts.slice(normalizerTexts.length)]) texts.push({ text, ids: (await tokenizer.encode(text, null, { addSpecialTokens: true })).getIds() });
  sentencepiece_bpe.push({ name: "nfkc_t5_converter", normalizer, pre_tokenizer, texts });
}
// A Sequence of a Metaspace that neither prepends nor splits and a split at the spaces its normalizer
// already replaced, as BORA's tokenizer.json has: the escape alone.
{
  const normalizer = { type: "Replace", pattern: { String: " " }, content: "\u2581" };
  const pre_tokenizer = { type: "Sequence", pretokenizers: [metaspaceOf("never", false), { type: "Split", pattern: { String: " " }, behavior: "MergedWithPrevious", invert: false }] };
  const tokenizer = Tokenizer.fromString(JSON.stringify({ ...spJson, normalizer, pre_tokenizer }));
  const texts = [];
  for (const text of spTexts) texts.push({ text, ids: (await tokenizer.encode(text, null, { addSpecialTokens: true })).getIds() });
  sentencepiece_bpe.push({ name: "escape_then_noop_sequence", normalizer, pre_tokenizer, texts });
}

// The byte-level BPE with an unk_token for the bytes its 300 pieces lack (Rust's BPE gives one per unknown
// char, or fuses a run), and a CLIP-like model: each piece also as piece + "</w>", each merge (a, b) also
// (a, b + "</w>"), so that a word's last symbol carries the suffix, as CLIP's vocabulary does.
const bpe_models = [];
{
  // Without the single-byte pieces no merge uses (the stand-ins of tabs, CR, and most bytes beyond ASCII).
  const merged = new Set(merges.flatMap((m) => m.split(" ")).flatMap((p) => [...p]));
  const unkVocab = Object.fromEntries(Object.entries(vocab).filter(([piece]) => [...piece].length > 1 || merged.has(piece)));
  unkVocab["<unk>"] = Math.max(...Object.values(vocab)) + 1;
  const suffixVocab = { ...vocab };
  let next = Math.max(...Object.values(vocab)) + 1;
  for (const piece of Object.keys(vocab)) suffixVocab[`${piece}</w>`] = next++;
  const suffixMerges = merges.flatMap((m) => { const [a, b] = m.split(" "); return [m, `${a} ${b}</w>`]; });
  const models = {
    unk_each: { ...bpe, vocab: unkVocab, unk_token: "<unk>" },
    unk_fused: { ...bpe, vocab: unkVocab, unk_token: "<unk>", fuse_unk: true },
    end_of_word_suffix: { ...bpe, vocab: suffixVocab, merges: suffixMerges, end_of_word_suffix: "</w>" },
    add_prefix_space: bpe,
    characters_whitespace: { ...bpe, vocab: unkVocab, unk_token: "<unk>" },
    characters_whitespace_no_unk: { ...bpe, vocab: unkVocab },
    characters_whitespace_split: { ...bpe, vocab: unkVocab, unk_token: "<unk>", fuse_unk: true },
    characters_unsplit: { ...bpe, vocab: unkVocab, unk_token: "<unk>" },
  };
  const characterPre = {
    characters_whitespace: { type: "Whitespace" },
    characters_whitespace_no_unk: { type: "Whitespace" },
    characters_whitespace_split: { type: "WhitespaceSplit" },
    characters_unsplit: null,
  };
  // The prefix space goes before each run between added tokens that does not begin with a space.
  const prefixSpace = { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true };
  const sep = { id: Math.max(...Object.values(vocab)) + 1, content: "<|sep|>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
  const texts = ["The model reads a window of tokens.", "na\u00efve caf\u00e9 \u2014 \u201cquotes\u201d \u65e5\u672c\u8a9e \u{1f916}\u{1f916} zzz\tq\r\n", "  two  spaces, ``code``; x=1+2", "", "model<|sep|>reads <|sep|> a<|sep|><|sep|> window<|sep|>"];
  // Steps after the ByteLevel that cut inside a character's bytes (Falcon's Digits: "β" stands as "Î²", "в" as "Ð²",
  // "¼" as "Â¼"), on texts of such characters, digits and added tokens: each piece's bytes merged on their own.
  const falcon = { type: "Sequence", pretokenizers: [{ type: "Punctuation", behavior: "Contiguous" }, byteLevel(true), { type: "Digits", individual_digits: false }] };
  const splitTexts = ["the angle \u03b2 = 2, \u0432 2024 \u0433\u043e\u0434\u0443 \u00bc\u00bd\u00be \u00b9\u00b2\u00b3 x\u00b2", "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! \u4e2d\u6587\u6d4b\u8bd5 \u{1f916}9", "model<|sep|>\u03b2<|sep|> \u0432", ""];
  const splitting = {
    falcon_bytes: { model: bpe, pre_tokenizer: falcon, added_tokens: [sep] },
    falcon_bytes_lowercase: { model: bpe, pre_tokenizer: falcon, added_tokens: [sep], normalizer: { type: "Lowercase" } },
    falcon_bytes_unk: { model: { ...bpe, vocab: unkVocab, unk_token: "<unk>", fuse_unk: true }, pre_tokenizer: falcon, added_tokens: [] },
    bytes_merged_with_previous_digits: { model: bpe, pre_tokenizer: preTokenizers.bytes_merged_with_previous_digits, added_tokens: [] },
  };
  for (const [name, model] of Object.entries(models)) {
    const pre_tokenizer = name === "add_prefix_space" ? prefixSpace : name in characterPre ? characterPre[name] : byteLevel(true);
    const added_tokens = name === "add_prefix_space" ? [sep] : [];
    const tokenizer = Tokenizer.fromString(tokenizerJson({ model, pre_tokenizer, added_tokens }));
    const cases = [];
    for (const text of texts) cases.push({ text, ids: (await tokenizer.encode(text, null, { addSpecialTokens: true })).getIds() });
    bpe_models.push({ name, model, pre_tokenizer, added_tokens, texts: cases });
  }
  for (const [name, parts] of Object.entries(splitting)) {
    const tokenizer = Tokenizer.fromString(tokenizerJson({ ...parts, decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true } }));
    const cases = [];
    for (const text of [...texts, ...splitTexts]) {
      const ids = (await tokenizer.encode(text, null, { addSpecialTokens: true })).getIds();
      cases.push({ text, ids, decoded: await tokenizer.decode(ids, false) });
    }
    bpe_models.push({ name, ...parts, texts: cases });
  }
}

// A WordLevel model over words of the texts below (MIDI and game-record models are such), with an added token.
const word_level = [];
{
  const words = ["[UNK]", "The", "model", "reads", "a", "window", "of", "tokens", ".", "tokens.", "na\u00efve", "1", "2", "+", "=", "x=1+2", "x", "``", "code", ";", "``;", ","];
  const model = { type: "WordLevel", vocab: Object.fromEntries(words.map((w, i) => [w, i])), unk_token: "[UNK]" };
  const added_tokens = [{ id: words.length, content: "<|sep|>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }];
  const texts = ["The model reads a window of tokens.", "na\u00efve  x=1+2 ``code``; \u65e5\u672c\u8a9e\t12\r\n", "model<|sep|>reads <|sep|> a<|sep|>", ""];
  const cases = {
    whitespace_split: { type: "WhitespaceSplit" },
    whitespace: { type: "Whitespace" },
    whitespace_digits: { type: "Sequence", pretokenizers: [{ type: "Whitespace" }, { type: "Digits", individual_digits: true }] },
  };
  for (const [name, pre_tokenizer] of Object.entries(cases)) {
    const tokenizer = Tokenizer.fromString(JSON.stringify({ version: "1.0", truncation: null, padding: null, added_tokens, normalizer: null, pre_tokenizer, post_processor: null, decoder: null, model }));
    const encoded = [];
    for (const text of texts) encoded.push({ text, ids: (await tokenizer.encode(text, null, { addSpecialTokens: true })).getIds() });
    word_level.push({ name, model, pre_tokenizer, added_tokens, texts: encoded });
  }
}

// A WordPiece model (BERT's) over a vocabulary of the texts' characters, each also as a continuation ("##x"), and some
// words and subwords, under BERT's normalizer and pre-tokenizer in its uncased, cased and accent-stripping forms and
// under the other pre-tokenizers WordPiece files use (Punctuation alone, CharDelimiterSplit), with BERT's special tokens
// (normalized false: found before the text is lowercased) and added tokens found in the normalized text.
const word_piece = [];
{
  const chars = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'-[]<>_:;()\u00e9\u00e7\u00f6\u00ef\u4f60\u597d\u4e2d\u{1f600}\u{1d518} "];
  const words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "un", "##aff", "##able", "##ably", "the", "##ll", "##o", "wor", "##ld", "line", "one", "two", "three", "caf", "na", "istanbul", "fine", "hello world", "code"];
  for (const c of chars) words.push(c, `##${c}`);
  const vocab = Object.fromEntries([...new Set(words)].map((w, i) => [w, i]));
  const special = (content) => ({ id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const normalizedAdded = (content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: true, special: false });
  const size = Object.keys(vocab).length;
  const added_tokens = [...["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].map(special), normalizedAdded("<code_0>", size), normalizedAdded("<code_1>", size + 1), normalizedAdded("Hello", size + 2)];
  const model = { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##", max_input_chars_per_word: 100, vocab };
  const bertNormalizer = (strip, lowercase, chinese = true, clean = true) => ({ type: "BertNormalizer", clean_text: clean, handle_chinese_chars: chinese, strip_accents: strip, lowercase });
  const template = { type: "TemplateProcessing", single: [{ SpecialToken: { id: "[CLS]", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "[SEP]", type_id: 0 } }], pair: [{ Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }], special_tokens: { "[CLS]": { id: "[CLS]", ids: [vocab["[CLS]"]], tokens: ["[CLS]"] }, "[SEP]": { id: "[SEP]", ids: [vocab["[SEP]"]], tokens: ["[SEP]"] } } };
  const base = { version: "1.0", truncation: null, padding: null, added_tokens, normalizer: bertNormalizer(null, true), pre_tokenizer: { type: "BertPreTokenizer" }, post_processor: template, decoder: { type: "WordPiece", prefix: "##", cleanup: true }, model };
  // The unk_token renamed in the vocabulary, so that every other id stays (Rust numbers added tokens from the vocabulary's size).
  const withoutUnk = Object.fromEntries(Object.entries(vocab).map(([w, i]) => [w === "[UNK]" ? "[UNK-gone]" : w, i]));
  const atVocab = Object.fromEntries(Object.entries(vocab).map(([w, i]) => [w.startsWith("##") ? `@@${w.slice(2)}` : w, i]));
  const cases = {
    bert_uncased: {},
    bert_cased: { normalizer: bertNormalizer(null, false) },
    bert_strip_cased: { normalizer: bertNormalizer(true, false, false) },
    bert_no_cleaning: { normalizer: bertNormalizer(false, true, false, false), decoder: { type: "WordPiece", prefix: "##", cleanup: false } },
    punctuation_only: { normalizer: null, pre_tokenizer: { type: "Punctuation", behavior: "Isolated" }, post_processor: null, decoder: null },
    lines: { normalizer: null, pre_tokenizer: { type: "CharDelimiterSplit", delimiter: "\n" }, post_processor: { type: "RobertaProcessing", sep: ["[SEP]", vocab["[SEP]"]], cls: ["[CLS]", vocab["[CLS]"]], trim_offsets: true, add_prefix_space: false } },
    short_words: { normalizer: null, post_processor: null, model: { ...model, max_input_chars_per_word: 5 } },
    at_prefix: { model: { ...model, continuing_subword_prefix: "@@", vocab: atVocab }, decoder: { type: "WordPiece", prefix: "@@", cleanup: true } },
    no_unk: { model: { ...model, vocab: withoutUnk }, added_tokens: added_tokens.filter((t) => t.content !== "[UNK]") },
  };
  const texts = [
    "Hello, world! Unaffable unaffably the abc. [CLS] x [SEP] hello world",
    "H\u00e9llo W\u00f6rld \u00c7a caf\u00e9 na\u00efve \u0130stanbul \ufb01ne \uff21\uff42\uff43 cafe\u0301",
    "\u4f60\u597d\u4e16\u754c \u4e2d x\u4f60y \u{2b81f}\u{2b820} \u{1f600}\u{1f600} \u{1d518}a\u{1d518}",
    "tab\tnbsp\u00a0ideo\u3000zw\u200bsoft\u00adbom\ufeffnul\u0000bell\u0007 vt\u000bff\u000cnel\u0085 x\u0890y \ue000pua\r\nend",
    `${"\u{1f600}".repeat(60)} ${"a".repeat(101)} ${"b".repeat(100)} abcdef abcde`,
    "<code_0>Hello<code_1> [mask] [MASK] [Cls] hello<code_0>world",
    "line one\nline two\n\nthree\n",
    "a\u061db x\u166dy don't i'm",
    "",
  ];
  for (const [name, parts] of Object.entries(cases)) {
    const json = { ...base, ...parts };
    const tokenizer = Tokenizer.fromString(JSON.stringify(json));
    const encoded = [];
    for (const text of texts) {
      try {
        const ids = (await tokenizer.encode(text, null, { addSpecialTokens: true })).getIds();
        encoded.push({ text, ids, decoded: await tokenizer.decode(ids, false) });
      } catch (e) {
        encoded.push({ text, error: String(e.message ?? e).split("\n")[0] });
      }
    }
    word_piece.push({ name, parts, texts: encoded });
  }
  word_piece.unshift({ name: "base", tokenizer: base });
}

// tokenizer_templates.json's ids (tokenizers.js's) must be the Rust library's.
const templates = JSON.parse(readFileSync(join(here, "tokenizer_templates.json"), "utf8"));
const differ = [];
const check = async (name, parts, texts) => {
  const tokenizer = Tokenizer.fromString(tokenizerJson(parts));
  for (const t of texts) {
    const ids = (await tokenizer.encode(t.text, null, { addSpecialTokens: true })).getIds();
    if (JSON.stringify(ids) !== JSON.stringify(t.ids)) differ.push(`${name}: ${JSON.stringify(t.text.slice(0, 40))}`);
  }
};
for (const c of templates.cases) await check(c.name, { added_tokens: c.added_tokens.map((t) => ({ ...t, special: true })), pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true }, post_processor: c.post_processor }, c.texts);
for (const c of templates.pre_tokenizers) await check(c.name, { pre_tokenizer: c.pre_tokenizer }, c.texts);
for (const c of templates.normalizers) await check(c.name, { normalizer: c.normalizer, pre_tokenizer: byteLevel(true) }, c.texts);
for (const [name, c] of Object.entries(templates.sentencepiece_bpe)) {
  const tokenizer = Tokenizer.fromString(JSON.stringify({ ...spJson, normalizer: c.normalizer, pre_tokenizer: c.pre_tokenizer }));
  for (const t of c.texts) {
    const ids = (await tokenizer.encode(t.text, null, { addSpecialTokens: true })).getIds();
    if (JSON.stringify(ids) !== JSON.stringify(t.ids)) differ.push(`sentencepiece_bpe ${name}: ${JSON.stringify(t.text.slice(0, 40))}`);
  }
}
if (differ.length > 0) {
  console.error(`tokenizer_templates.json differs from the Rust library's ids:\n${differ.join("\n")}`);
  process.exit(1);
}

writeFileSync(join(here, "rust_tokenizers.json"), JSON.stringify({ generator: "tokenizers 0.22.2 (Rust) through @anush008/tokenizers 0.6.0, make_rust_tokenizers.mjs", pre_tokenizers, normalizers, precompiled_normalizers, sentencepiece_bpe, bpe_models, word_level, word_piece, unigram }, null, 1) + "\n");
console.log(`${pre_tokenizers.length} pre-tokenizers, ${normalizers.length} normalizers, ${precompiled_normalizers.length} with a character map, ${sentencepiece_bpe.length} Metaspace variants, ${unigram.length} Unigram variants; tokenizer_templates.json's ids equal the Rust library's`);
