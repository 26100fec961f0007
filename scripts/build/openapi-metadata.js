'use strict';
// The OpenAPI half of `npm run build` (scripts/build.js): the @nestjs/swagger CLI plugin (its ReadonlyVisitor,
// classValidatorShim and introspectComments on) reads the request classes (every file of libs/contracts) with
// the type checker, and openApiMetadata prints what it found as the text of
// libs/contracts/src/openapi/plugin-metadata.ts (committed; exported as openApiPluginMetadata, which each app's
// main.ts hands to SwaggerModule.loadPluginMetadata). One file for both apps, since the apps declare no request
// or reply classes of their own. A file rather than the plugin's emit transformer, so that jest (swc, no type
// checker) documents the same schemas as dist/. It fills in what the shim leaves out: @IsInt (integer), @IsPort
// (integer 1-65535), @IsIn (enum), @Matches with a regex constant or a `new RegExp` of constants (the plugin
// reads only regex literals) and the contracts' documenting type aliases (IsoDateTime: format date-time, …).
// Replies are documented where they are classes (named by the controllers' @ApiOkResponse); controllers are not
// visited, since from a return type that is an interface the plugin could only say Object.
const path = require('node:path');
const ts = require('typescript');
const { ReadonlyVisitor } = require('@nestjs/swagger/plugin');

const ROOT = path.join(__dirname, '..', '..');

/** Where the request and reply classes are (the apps declare none of their own), and the metadata file goes. */
const CONTRACTS = 'libs/contracts/src/';
const OUT_DIR = path.join(ROOT, CONTRACTS, 'openapi');
const PLUGIN_OPTIONS = {
  classValidatorShim: true,
  // Request and reply classes: every file of the contracts.
  dtoFileNameSuffix: [`/${CONTRACTS}`],
  // A property's JSDoc is its description, and its `@example` tag its example.
  introspectComments: true,
};

function decoratorsOf(node) {
  return (ts.canHaveDecorators(node) && ts.getDecorators(node)) || [];
}

function decoratorCall(node, name) {
  for (const d of decoratorsOf(node)) {
    const e = d.expression;
    if (ts.isCallExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === name) return e;
  }
  return undefined;
}

/** The declaration a name stands for, following imports. */
function declarationOf(identifier, checker) {
  let symbol = checker.getSymbolAtLocation(identifier);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  return symbol && symbol.valueDeclaration;
}

/**
 * The value of a constant expression (string and number literals, templates, + - * on them, and names of
 * `const`s holding them), or undefined: enough for patterns built from length constants, such as
 * STREAM_ID_PATTERN's `new RegExp(`^…{${STREAM_ID_MIN_LENGTH - 1},…}$`)`.
 */
function constantValue(node, checker) {
  if (ts.isParenthesizedExpression(node)) return constantValue(node.expression, checker);
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isNumericLiteral(node)) return Number(node.text);
  if (ts.isTemplateExpression(node)) {
    let text = node.head.text;
    for (const span of node.templateSpans) {
      const value = constantValue(span.expression, checker);
      if (value === undefined) return undefined;
      text += String(value) + span.literal.text;
    }
    return text;
  }
  if (ts.isBinaryExpression(node)) {
    const left = constantValue(node.left, checker);
    const right = constantValue(node.right, checker);
    if (left === undefined || right === undefined) return undefined;
    switch (node.operatorToken.kind) {
      case ts.SyntaxKind.PlusToken:
        return typeof left === 'string' || typeof right === 'string' ? `${left}${right}` : left + right;
      case ts.SyntaxKind.MinusToken:
        return typeof left === 'number' && typeof right === 'number' ? left - right : undefined;
      case ts.SyntaxKind.AsteriskToken:
        return typeof left === 'number' && typeof right === 'number' ? left * right : undefined;
      default:
        return undefined;
    }
  }
  if (ts.isIdentifier(node)) {
    const decl = declarationOf(node, checker);
    const isConst =
      decl && ts.isVariableDeclaration(decl) && ts.getCombinedNodeFlags(decl) & ts.NodeFlags.Const;
    return isConst && decl.initializer ? constantValue(decl.initializer, checker) : undefined;
  }
  return undefined;
}

/**
 * The regex an argument stands for, as literal text (/…/flags): a regex literal, `new RegExp(source, flags?)` of
 * constant strings, or a `const X` holding either (imports followed).
 */
function regexLiteral(arg, checker) {
  if (ts.isRegularExpressionLiteral(arg)) return arg.text;
  if (ts.isNewExpression(arg) && ts.isIdentifier(arg.expression) && arg.expression.text === 'RegExp') {
    const [source, flags] = (arg.arguments ?? []).map((a) => constantValue(a, checker));
    const constant = typeof source === 'string' && (arg.arguments.length < 2 || typeof flags === 'string');
    return constant ? `/${source}/${flags ?? ''}` : undefined;
  }
  if (!ts.isIdentifier(arg)) return undefined;
  const decl = declarationOf(arg, checker);
  if (!decl || !ts.isVariableDeclaration(decl) || !decl.initializer) return undefined;
  return ts.isIdentifier(decl.initializer) ? undefined : regexLiteral(decl.initializer, checker);
}

/** `type` for a property typed by an interface, which has no runtime value for the plugin's `() => X` to name. */
function interfaceTypeOf(prop, checker) {
  const type = checker.getTypeAtLocation(prop);
  const element = checker.isArrayType(type) ? checker.getTypeArguments(type)[0] : undefined;
  const symbol = (element ?? type).getSymbol();
  if (!symbol || !(symbol.flags & ts.SymbolFlags.Interface) || symbol.flags & ts.SymbolFlags.Class)
    return undefined;
  const f = ts.factory;
  const object = f.createIdentifier('Object');
  return f.createArrowFunction(
    undefined,
    undefined,
    [],
    undefined,
    undefined,
    element ? f.createArrayLiteralExpression([object]) : object,
  );
}

/**
 * The contracts' documenting type aliases (libs/contracts/src/common.ts) and what each adds to a property typed
 * by it, alone or with null: for reply classes that are built as plain objects and carry no validation rules.
 */
const TYPE_ALIASES = {
  IsoDateTime: { format: 'date-time' },
  Uuid: { format: 'uuid' },
  Integer: { type: 'integer' },
};

/** What the property's type alias (see TYPE_ALIASES) adds, if it has one. */
function aliasExtras(prop) {
  const node = prop.type;
  const parts = node && ts.isUnionTypeNode(node) ? node.types : node ? [node] : [];
  const ref = parts.find((t) => ts.isTypeReferenceNode(t) && ts.isIdentifier(t.typeName));
  const extras = (ref && TYPE_ALIASES[ref.typeName.text]) || {};
  return Object.fromEntries(Object.entries(extras).map(([k, v]) => [k, ts.factory.createStringLiteral(v)]));
}

/** What the shim misses on one property, as replacements of its metadata keys (undefined removes a key). */
function shimExtras(prop, checker) {
  const f = ts.factory;
  const extras = {};
  const interfaceType = interfaceTypeOf(prop, checker);
  if (interfaceType) extras.type = interfaceType;
  if (decoratorCall(prop, 'IsInt')) extras.type = f.createStringLiteral('integer');
  if (decoratorCall(prop, 'IsPort')) {
    extras.type = f.createStringLiteral('integer');
    extras.minimum = f.createNumericLiteral(1);
    extras.maximum = f.createNumericLiteral(65535);
  }
  Object.assign(extras, aliasExtras(prop));
  // The shim reads numeric literals only: @Max(MAX_PAGE_SIZE) and the like are resolved here.
  for (const [decorator, key] of [
    ['Min', 'minimum'],
    ['Max', 'maximum'],
  ]) {
    const call = decoratorCall(prop, decorator);
    const value = call && call.arguments.length ? constantValue(call.arguments[0], checker) : undefined;
    if (typeof value === 'number') extras[key] = f.createNumericLiteral(value);
  }
  const matches = decoratorCall(prop, 'Matches');
  if (matches && matches.arguments.length) {
    const m = /^\/(.*)\/([a-z]*)$/s.exec(regexLiteral(matches.arguments[0], checker) ?? '');
    // A pattern with flags (/…/i) has no OpenAPI form: leave it out rather than document a stricter one.
    extras.pattern = m && !m[2] ? ts.factory.createStringLiteral(m[1]) : undefined;
  }
  const isIn = decoratorCall(prop, 'IsIn');
  if (isIn && isIn.arguments.length && ts.isArrayLiteralExpression(isIn.arguments[0])) {
    const values = isIn.arguments[0].elements
      .filter(ts.isStringLiteral)
      .map((e) => ts.factory.createStringLiteral(e.text));
    extras.enum = ts.factory.createArrayLiteralExpression(values);
  }
  return extras;
}

function withExtras(objectLiteral, extras) {
  const kept = objectLiteral.properties.filter(
    (p) => !(p.name && ts.isIdentifier(p.name) && p.name.text in extras),
  );
  const added = Object.entries(extras)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => ts.factory.createPropertyAssignment(key, value));
  return ts.factory.createObjectLiteralExpression([...kept, ...added]);
}

/**
 * Whether a class describes a message: it has a decorated property (a validated request or reply), or it has
 * properties only (a reply built as a plain object, such as StreamInfo). Errors and other classes with methods
 * are left out.
 */
function isMessageClass(cls) {
  const props = cls.members.filter(ts.isPropertyDeclaration);
  if (props.some((m) => decoratorsOf(m).length)) return true;
  return props.length > 0 && props.length === cls.members.length;
}

/** The plugin's model metadata of one file ({ ClassName: { prop: {…} } }) with shimExtras applied, message classes only. */
function completeModels(sourceFile, classes, checker) {
  const out = {};
  for (const [className, classMeta] of Object.entries(classes)) {
    const cls = sourceFile.statements.find(
      (s) => ts.isClassDeclaration(s) && s.name && s.name.text === className,
    );
    if (!cls || !isMessageClass(cls) || !ts.isObjectLiteralExpression(classMeta)) continue;
    const props = classMeta.properties.map((p) => {
      const member = cls.members.find(
        (m) => ts.isPropertyDeclaration(m) && m.name.getText(sourceFile) === p.name.text,
      );
      if (!member || !ts.isPropertyAssignment(p) || !ts.isObjectLiteralExpression(p.initializer)) return p;
      return ts.factory.createPropertyAssignment(
        p.name.text,
        withExtras(p.initializer, shimExtras(member, checker)),
      );
    });
    out[className] = ts.factory.createObjectLiteralExpression(props, true);
  }
  return out;
}

function printMetadata(models, typeImports) {
  const f = ts.factory;
  const entries = (list) =>
    f.createArrayLiteralExpression(
      list.map(([importExpr, classes]) =>
        f.createArrayLiteralExpression([
          importExpr,
          f.createObjectLiteralExpression(
            Object.entries(classes).map(([name, meta]) => f.createPropertyAssignment(name, meta)),
            true,
          ),
        ]),
      ),
      true,
    );
  const typeImportsVar = f.createVariableStatement(
    undefined,
    f.createVariableDeclarationList(
      [
        f.createVariableDeclaration(
          't',
          undefined,
          undefined,
          f.createObjectLiteralExpression(
            Object.entries(typeImports).map(([key, expr]) =>
              f.createPropertyAssignment(
                f.createComputedPropertyName(f.createStringLiteral(key)),
                f.createIdentifier(expr),
              ),
            ),
            true,
          ),
        ),
      ],
      ts.NodeFlags.Const,
    ),
  );
  const body = f.createObjectLiteralExpression(
    [
      f.createPropertyAssignment(
        f.createStringLiteral('@nestjs/swagger'),
        f.createObjectLiteralExpression([f.createPropertyAssignment('models', entries(models))], true),
      ),
    ],
    true,
  );
  const fn = f.createExportAssignment(
    undefined,
    undefined,
    f.createArrowFunction(
      [f.createToken(ts.SyntaxKind.AsyncKeyword)],
      undefined,
      [],
      undefined,
      undefined,
      f.createBlock([typeImportsVar, f.createReturnStatement(body)], true),
    ),
  );
  const printer = ts.createPrinter({ newLine: ts.NewLineKind.LineFeed });
  const file = ts.createSourceFile('plugin-metadata.ts', '', ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  return (
    '// Generated by scripts/build.js (npm run build) with the @nestjs/swagger plugin: do not edit.\n' +
    printer.printNode(ts.EmitHint.Unspecified, fn, file) +
    '\n'
  );
}

/** The contracts' metadata file, as text (prettier-formatted like the rest of the tree). */
async function openApiMetadata(program) {
  const visitor = new ReadonlyVisitor({ ...PLUGIN_OPTIONS, pathToSource: OUT_DIR });
  const files = program
    .getSourceFiles()
    .filter(
      (sf) => !sf.isDeclarationFile && path.resolve(sf.fileName).startsWith(path.join(ROOT, CONTRACTS)),
    );
  for (const sf of files) visitor.visit(program, sf);
  const { models } = visitor.collect();
  const checker = program.getTypeChecker();
  const completed = models
    .map(([importExpr, classes]) => {
      const file = path.resolve(OUT_DIR, importExpr.arguments[0].text + '.ts');
      const sf = program.getSourceFile(file);
      return [importExpr, sf ? completeModels(sf, classes, checker) : {}];
    })
    .filter(([, classes]) => Object.keys(classes).length);
  const text = printMetadata(completed, visitor.typeImports);
  const target = path.join(OUT_DIR, 'plugin-metadata.ts');
  const prettier = require('prettier');
  const formatted = await prettier.format(text, {
    ...(await prettier.resolveConfig(target)),
    filepath: target,
  });
  return { target, text: formatted };
}

module.exports = { openApiMetadata };
