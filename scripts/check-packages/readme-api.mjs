// Each publishable package's README has a `## API` section that lists exactly what src/index.ts
// exports: the first backticked identifier of each table row (`| \`Name\` | …`) or top-level
// bullet (`- \`Name\` …`) up to the next `## ` heading, compared by name with the export statements.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'

/** The names a module's export statements declare, types included; `export *` is reported. */
export function exportedNames(file) {
  const source = ts.createSourceFile(
    file,
    readFileSync(file, 'utf8'),
    ts.ScriptTarget.Latest,
    false,
    ts.ScriptKind.TS,
  )
  const names = new Set()
  const problems = []
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) {
      const clause = statement.exportClause
      if (clause === undefined)
        problems.push(`export * from ${statement.moduleSpecifier?.getText(source)}: list the names`)
      else if (ts.isNamedExports(clause)) for (const element of clause.elements) names.add(element.name.text)
      else names.add(clause.name.text)
    } else if (ts.isExportAssignment(statement)) {
      names.add('default')
    } else if (hasModifier(statement, ts.SyntaxKind.ExportKeyword)) {
      if (hasModifier(statement, ts.SyntaxKind.DefaultKeyword)) names.add('default')
      else if (ts.isVariableStatement(statement)) {
        for (const declaration of statement.declarationList.declarations) {
          if (ts.isIdentifier(declaration.name)) names.add(declaration.name.text)
          else problems.push(`destructured export ${declaration.name.getText(source)}: name it`)
        }
      } else if (statement.name !== undefined) names.add(statement.name.text)
    }
  }
  return { names, problems }
}

function hasModifier(node, kind) {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((modifier) => modifier.kind === kind)
}

/** The identifiers the README's `## API` section lists, or null when there is no such section. */
export function listedNames(readme) {
  const lines = readme.split(/\r?\n/)
  const start = lines.findIndex((line) => line.trimEnd() === '## API')
  if (start === -1) return null
  const names = new Set()
  let fenced = false
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('```')) fenced = !fenced
    if (fenced) continue
    if (line.startsWith('## ')) break
    const code = /^\|\s*`([^`]+)`/.exec(line)?.[1] ?? /^[-*]\s+`([^`]+)`/.exec(line)?.[1]
    const name = code && /^[A-Za-z_$][\w$]*/.exec(code.trim())?.[0]
    if (name) names.add(name)
  }
  return names
}

/** Compares each package's README API section with its index exports; returns failure messages. */
export function checkReadmeApi(packages) {
  const failures = []
  for (const pkg of packages) {
    const index = join(pkg.dir, 'src/index.ts')
    const { names: exported, problems } = exportedNames(index)
    for (const problem of problems) failures.push(`${pkg.name}: src/index.ts: ${problem}`)
    let readme = ''
    try {
      readme = readFileSync(join(pkg.dir, 'README.md'), 'utf8')
    } catch {}
    const listed = listedNames(readme)
    if (listed === null) {
      failures.push(
        `${pkg.name}: README.md has no "## API" section listing the ${exported.size} exports of src/index.ts`,
      )
      continue
    }
    const missing = [...exported].filter((name) => !listed.has(name)).sort()
    const extra = [...listed].filter((name) => !exported.has(name)).sort()
    if (missing.length > 0) failures.push(`${pkg.name}: README "## API" lacks exports: ${missing.join(', ')}`)
    if (extra.length > 0)
      failures.push(`${pkg.name}: README "## API" lists names index.ts does not export: ${extra.join(', ')}`)
    if (missing.length === 0 && extra.length === 0)
      console.log(`${pkg.name}: README "## API" lists the ${exported.size} exports`)
  }
  return failures
}
