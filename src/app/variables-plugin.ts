import {
  coerceInputValue,
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  isInputType,
  isNonNullType,
  Kind,
  type OperationDefinitionNode,
  typeFromAST,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

function operationOf(document: DocumentNode, operationName?: string | null): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
}

function problem(
  variable: string,
  inputPath: readonly (string | number)[],
  message: string,
  definitions: OperationDefinitionNode['variableDefinitions'],
) {
  const field = [`$${variable}`, ...inputPath.map(String)].join('.');
  return new GraphQLError(`Variable "${field}" ${message}`, {
    nodes: definitions?.find((d) => d.variable.name.value === variable) ?? null,
    extensions: {
      code: 'BAD_USER_INPUT',
      variable,
      inputPath: [...inputPath],
      field,
      // A request error: 400 under application/graphql-response+json, as for validation errors.
      http: { spec: true, status: 400 },
    },
  });
}

/**
 * Every variable value of the operation that GraphQL cannot coerce, as BAD_USER_INPUT naming the
 * variable and the path inside it. graphql-js would say the same without a code; graphql-jit
 * (the executor of queries and mutations here) names the input field as if it were a variable
 * ("$colorDepth" for `$input.configuration.colorDepth`) and gives no code either.
 */
export function variableProblems(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  values: Readonly<Record<string, unknown>> | null | undefined,
): GraphQLError[] {
  const operation = operationOf(document, operationName);
  const definitions = operation?.variableDefinitions;
  if (!definitions?.length) return [];
  const errors: GraphQLError[] = [];
  for (const definition of definitions) {
    const name = definition.variable.name.value;
    const type = typeFromAST(schema, definition.type);
    // Unknown or output types are refused by validation, before this runs.
    if (!type || !isInputType(type)) continue;
    const value = values?.[name];
    if (value === undefined) {
      if (isNonNullType(type) && !definition.defaultValue) {
        errors.push(problem(name, [], `of required type ${String(type)} was not provided`, definitions));
      }
      continue;
    }
    coerceInputValue(value, type, (path, invalid, error) => {
      errors.push(
        problem(name, path, `got invalid value ${JSON.stringify(invalid) ?? String(invalid)}; ${error.message}`, definitions),
      );
    });
  }
  return errors;
}

/** Refuses operations whose variables do not coerce, before any executor runs; HTTP and WebSocket alike. */
export function createVariablesPlugin(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const errors = variableProblems(args.schema, args.document, args.operationName, args.variableValues);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const errors = variableProblems(args.schema, args.document, args.operationName, args.variableValues);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}
