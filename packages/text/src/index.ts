/**
 * @refine-af/text — text metrics with official-scorer parity (SuperNI ROUGE-L and exact match,
 * rouge_score tokenization, nltk Porter stemming) and fast ROUGE-L near-duplicate filtering
 * for Self-Instruct.
 */
export { EmptyReferencesError, InvalidPoolOptionError, PoolWorkerError } from "./errors.ts"
export { exactMatch, normalizeAnswer } from "./metrics/exact-match.ts"
export { fMeasure, rougeL, rougeLFromLcs, type RougeLScore, rougeLMax } from "./metrics/rouge-l.ts"
export { type RougeOptions, rougeTokenize } from "./metrics/rouge-tokenize.ts"
export { lcsLengthDP } from "./lcs/lcs-dp.ts"
export { porterStem } from "./porter/porter-stemmer.ts"
