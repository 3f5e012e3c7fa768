import { describe, expect, it } from "vitest"
import { encodeBootstrapPrompt, parseNumberedInstructions } from "../src/index.ts"

describe("parseNumberedInstructions", () => {
  it("treats the text before the first numbered line as the open item and splits the rest", () => {
    const response = " Name three rivers in Europe.\n10. Translate the phrase into French.\n11.  Rewrite   the\nsentence in passive voice."
    expect(parseNumberedInstructions(response)).toEqual([
      "Name three rivers in Europe.",
      "Translate the phrase into French.",
      "Rewrite the sentence in passive voice."
    ])
  })

  it("keeps a response without any numbers as one item, whitespace collapsed", () => {
    expect(parseNumberedInstructions("  tell me a joke\nabout cats  ")).toEqual(["Tell me a joke about cats"])
  })

  it("accepts repeated, skipped and parenthesised numbering", () => {
    expect(parseNumberedInstructions(" a b c d\n10. e f g h\n10. i j k l\n40) m n o p")).toEqual([
      "A b c d",
      "E f g h",
      "I j k l",
      "M n o p"
    ])
  })

  it("does not split on decimals or numbers inside a line", () => {
    expect(parseNumberedInstructions(" Round 3.5 to an integer.\n3.14 is pi, explain why.")).toEqual([
      "Round 3.5 to an integer. 3.14 is pi, explain why."
    ])
  })

  it("drops empty items, empty responses and whitespace-only responses", () => {
    expect(parseNumberedInstructions("")).toEqual([])
    expect(parseNumberedInstructions(" \n \t ")).toEqual([])
    expect(parseNumberedInstructions("\n10. \n11. Real item here please")).toEqual(["Real item here please"])
  })

  it("handles CRLF line ends and unicode text", () => {
    expect(parseNumberedInstructions(" Écris un poème.\r\n10. Summarise the 日本語 text.")).toEqual([
      "Écris un poème.",
      "Summarise the 日本語 text."
    ])
  })

  it("keeps case after the first character (the filters are case-insensitive)", () => {
    expect(parseNumberedInstructions(" explain NASA's role")).toEqual(["Explain NASA's role"])
  })

  it("survives a 10k-character line", () => {
    const huge = "x".repeat(10_000)
    const items = parseNumberedInstructions(` ${huge}\n10. Short item with four words`)
    expect(items).toHaveLength(2)
    expect(items[0]).toHaveLength(10_000)
  })
})

describe("encodeBootstrapPrompt", () => {
  it("numbers the items, flattens them to one line, drops trailing colons and leaves the next number open", () => {
    const prompt = encodeBootstrapPrompt(["First task:", "Second\n  task", "Third task"])
    expect(prompt).toBe("Come up with a series of tasks:\n1. First task\n2. Second task\n3. Third task\n4.")
  })

  it("round-trips through the parser: a continuation of the prompt parses into its own items", () => {
    const shown = Array.from({ length: 8 }, (_, i) => `Shown task number ${i + 1} here`)
    const prompt = encodeBootstrapPrompt(shown, "Header")
    // Everything after the header line, minus the open "9.", is itself a numbered list.
    const body = prompt.slice(prompt.indexOf("\n1.") + 3, prompt.lastIndexOf("\n9."))
    expect(parseNumberedInstructions(body)).toEqual(shown)
  })
})
