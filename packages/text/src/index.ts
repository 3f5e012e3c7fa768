/**
 * @refine-af/text — text metrics with official-scorer parity (SuperNI ROUGE-L and exact match,
 * rouge_score tokenization, nltk Porter stemming) and fast ROUGE-L near-duplicate filtering
 * for Self-Instruct.
 */
export { EmptyReferencesError, InvalidPoolOptionError, PoolWorkerError } from "./errors.ts"
export { exactMatch, normalizeAnswer } from "./metrics/exact-match.ts"
export { rougeL, rougeLMax } from "./metrics/rouge-l.ts"
export { fMeasure, rougeLFMeasure, rougeLFromLcs, type RougeLScore } from "./metrics/rouge-l-formula.ts"
export { type RougeOptions, rougeTokenize } from "./metrics/rouge-tokenize.ts"
export { lcsLengthDP } from "./lcs/lcs-dp.ts"
export { pythonSplitWhitespace, pythonStrip } from "./metrics/python-text.ts"
export { porterStem } from "./porter/porter-stemmer.ts"
export { lcsLengthBitParallel } from "./lcs/bit-parallel-lcs.ts"
export type { FilterBatchOptions, PoolQueryOptions } from "./pool/pool-options.ts"
export {
  type FilterDecision,
  type PoolNeighbour,
  type PoolQueryResult,
  RougePool,
  type RougePoolOptions
} from "./pool/rouge-pool.ts"
export {
  type DialogSample,
  dialogHistory,
  type UniEvalDialogDimension,
  uniEvalDialogDimensions,
  uniEvalDialogQuestion,
  yesProbability
} from "./questions/unieval-dialog.ts"
export { ALPACA_PROMPT, ALPACA_PROMPT_NO_INPUT, alpacaPrompt, alpacaUserTurn, type AlpacaFields, fillAlpacaTemplate } from "./formats/alpaca.ts"
