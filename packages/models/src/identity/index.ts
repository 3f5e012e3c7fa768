/** Content identities of model and adapter folders. */
export * from "./model-id.ts"
