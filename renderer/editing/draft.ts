/**
 * A draft of an image's document, kept as the YAML text the user sees (the
 * one truth both tabs edit) plus the form's rows. The rows are written into
 * the YAML line by line, so a duplicate key typed in the form is a duplicate
 * in the YAML too, and both tabs show the same error.
 */
import {
  documentYaml,
  parseDocumentYaml,
  propertyKeyProblem,
  propertyValueProblem,
  type ImageDocument,
  type ParsedDocument,
} from '../../shared/images/document';

export interface PropertyRow {
  /** Stable across renames, for React keys and focus. */
  id: number;
  key: string;
  value: string;
}

/** What the form edits besides the properties. */
export interface FormFields {
  auto_update: boolean;
  public: boolean;
  expires_at: string;
  profiles: string[];
}

let nextId = 1;
export const newRowId = () => nextId++;

/**
 * The form's rows for a document (the server's, or one read from YAML): rows of `previous` whose
 * key is unchanged keep their ids, so the same inputs stay on the page; from no rows, all are new.
 */
export function reconcileRows(previous: PropertyRow[], document: ImageDocument): PropertyRow[] {
  const byKey = new Map(previous.map((row) => [row.key, row.id]));
  return Object.entries(document.properties).map(([key, value]) => ({
    id: byKey.get(key) ?? newRowId(),
    key,
    value,
  }));
}

export function fieldsOf(document: ImageDocument): FormFields {
  return {
    auto_update: document.auto_update,
    public: document.public,
    expires_at: document.expires_at,
    profiles: [...document.profiles],
  };
}

/** The form as YAML: the text documentToYaml makes, one entry per row (duplicates kept). */
export function formToYaml(fields: FormFields, rows: PropertyRow[]): string {
  return documentYaml(
    fields,
    rows.map((row) => [row.key, row.value]),
  );
}

/** A problem of one row, as the form shows it under the row. */
export interface RowProblem {
  severity: 'error' | 'warning';
  message: string;
}

/** Each row's problem: the key's, a duplicate, the value's. Keys already on the server pass. */
export function rowProblems(rows: PropertyRow[], base: ImageDocument): Map<number, RowProblem> {
  const problems = new Map<number, RowProblem>();
  const seen = new Set<string>();
  for (const row of rows) {
    const existed = Object.hasOwn(base.properties, row.key);
    const duplicate = seen.has(row.key);
    seen.add(row.key);
    const keyProblem = existed ? undefined : propertyKeyProblem(row.key);
    const valueProblem = propertyValueProblem(row.key, row.value);
    const problem: RowProblem | undefined = duplicate
      ? {
          severity: 'error',
          message: `The key "${row.key}" is already used above: a key appears once.`,
        }
      : keyProblem?.severity === 'error'
        ? keyProblem
        : valueProblem?.severity === 'error'
          ? valueProblem
          : (keyProblem ?? valueProblem);
    if (problem !== undefined) problems.set(row.id, problem);
  }
  return problems;
}

export function parseDraft(text: string, base: ImageDocument): ParsedDocument {
  return parseDocumentYaml(text, base);
}
