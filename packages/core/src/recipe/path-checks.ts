/**
 * `validate` checks that every path option (`RecipePath`) names an existing
 * file or folder of the right kind, and runs the option's content check if it
 * has one, reporting the resolved absolute path at the option's line:column.
 */
import type { Schema } from "effect"
import * as fs from "node:fs"
import { pathOptions } from "../plugin/path-option.ts"
import { problemAt, type RecipeProblem } from "./errors.ts"
import type { DocPath, PositionIndex } from "./positions.ts"

/** Problems of the path options in `options` (decoded), for the node at `nodePath`. */
export const pathProblems = (
  schema: Schema.Top,
  options: unknown,
  recipeDir: string,
  nodePath: DocPath,
  label: string,
  positions: PositionIndex
): Array<RecipeProblem> => {
  const problems: Array<RecipeProblem> = []
  for (const option of pathOptions(schema, options, recipeDir)) {
    const at = positions.valueAt([...nodePath, ...option.at])
    const name = option.at.join(".")
    const relativeNote = option.value === option.absolute ? "" : ` (relative paths start at the recipe's folder, ${recipeDir})`
    let stat: fs.Stats | undefined
    try {
      stat = fs.statSync(option.absolute)
    } catch {
      stat = undefined
    }
    if (stat === undefined) {
      const wanted = option.kind === "dir" ? "folder" : option.kind === "file" ? "file" : "file or folder"
      problems.push(problemAt(at, `${label}: option "${name}" names ${option.absolute}, which does not exist`, `create the ${wanted} or fix the path${relativeNote}`))
    } else if (option.kind === "file" && stat.isDirectory()) {
      problems.push(problemAt(at, `${label}: option "${name}" must name a file, but ${option.absolute} is a folder`, `name a file inside it${relativeNote}`))
    } else if (option.kind !== "dir" && !stat.isFile() && !stat.isDirectory()) {
      // /dev/zero or a FIFO would be read forever (or block) at run time.
      problems.push(problemAt(at, `${label}: option "${name}" names ${option.absolute}, which is a device, socket or pipe, not a regular file`, `name a regular file${relativeNote}`))
    } else if (option.kind === "dir" && !stat.isDirectory()) {
      problems.push(problemAt(at, `${label}: option "${name}" must name a folder, but ${option.absolute} is a file`, `name the folder that holds it${relativeNote}`))
    } else if (option.check !== undefined) {
      const found = option.check(option.absolute)
      if (found !== undefined) problems.push(problemAt(at, `${label}: option "${name}": ${found.problem}`, found.fix))
    }
  }
  return problems
}
