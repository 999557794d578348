// The normalizers and texts both generators check (make_tokenizer_templates.mjs against tokenizers.js,
// make_rust_tokenizers.mjs against the Rust library): Qwen's NFC, Claude's NFKC, the other forms and
// Lowercase, on texts that they change: combining marks that compose, Devanagari with nukta,
// conjoining Hangul jamo, singletons (U+212B, U+2126), compatibility characters (ligatures, fullwidth,
// circled, superscripts, CJK compatibility ideographs), and U+0130, whose lowercase is two code points.
// No text here has a word-final capital sigma, where tokenizers.js's toLowerCase differs from Rust's
// lowercase per code point.
export const normalizerCases = {
  nfc: { type: "NFC" },
  nfd: { type: "NFD" },
  nfkc: { type: "NFKC" },
  nfkd: { type: "NFKD" },
  lowercase: { type: "Lowercase" },
  nfkc_lowercase: { type: "Sequence", normalizers: [{ type: "NFKC" }, { type: "Lowercase" }] },
};

export const normalizerTexts = [
  "cafe\u0301 caf\u00e9 nai\u0308ve \u212Bngstr\u00f6m \ufb01ne \uff21\uff22\uff23 \u2460 x\u00b2 \u1e9b\u0323 \u2126mega A\u030a",
  "\u0928\u092e\u0938\u094d\u0924\u0947 \u0915\u093c\u093f\u0932\u093e \u0958 \u1100\u1161\u11a8 \uac00 \u00c5 \ufa10 \u{2f800}",
  "\u0130stanbul \u00c7A\u011e \u0391\u0398\u0397\u039d\u0391 \u{1d400}\u{1d401} \u{10400}\u{10401}x T\u0336",
];
