// The provider object handed to pulumi.dynamic.Resource. Pulumi serializes it into the stack's state as
// JavaScript text (`__provider`) and evaluates that text in its dynamic-provider host for every operation,
// copying by value everything the methods capture. So it captures nothing: each method loads the real
// implementation by package name at run time (resolved from the program's node_modules, where the package
// is installed) and forwards its arguments. No schema, HTTP agent or credential ever enters the text.
import type * as pulumi from "@pulumi/pulumi";

type Implementation = Required<pulumi.dynamic.ResourceProvider>;

function implementation(): Implementation {
  // A literal specifier, so that the serialized text is self-contained.
  return (require("pulumi-dms-offset-reset/dist/provider/resource/provider.js") as typeof import("../provider/resource/provider"))
    .offsetResetProvider;
}

export const offsetResetProvider: Implementation = {
  configure: (req) => implementation().configure(req),
  check: (olds, news) => implementation().check(olds, news),
  diff: (id, olds, news) => implementation().diff(id, olds, news),
  create: (inputs) => implementation().create(inputs),
  update: (id, olds, news) => implementation().update(id, olds, news),
  read: (id, props) => implementation().read(id, props),
  delete: (id, props) => implementation().delete(id, props),
};
