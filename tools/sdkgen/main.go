// Command sdkgen generates Pulumi SDKs (Python, Go, Node.js) for a Pulumi package schema with the code
// generators of github.com/pulumi/pulumi/pkg/v3, the same ones `pulumi package gen-sdk` reaches through the
// language hosts (pulumi-language-python, -go, -nodejs), called directly so that no language host, provider
// plugin or engine is needed.
//
// Usage:
//
//	sdkgen --schema schema.json --out DIR [--lang python,go,nodejs] [--version X.Y.Z] [--local] [--ref other-schema.json]...
//
// Writes DIR/<lang>/... for each language (each DIR/<lang> is emptied first, as gen-sdk does). The schema is
// validated and bound like gen-sdk binds it (schema.BindSpec, dangling references allowed); packages it
// references are loaded only from the --ref schemas (no plugins are started): a reference to any other
// package is an error naming it. Exit status 1 with the reason on stderr on any error, schema diagnostics
// included; warnings are printed and do not fail.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/blang/semver"
	"github.com/hashicorp/hcl/v2"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// The tool names the language hosts pass, so generated headers read as they do from `pulumi package gen-sdk`.
var tools = map[string]string{
	"python": "pulumi-language-python",
	"go":     "pulumi-language-go",
	"nodejs": "pulumi-language-nodejs",
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintf(os.Stderr, "sdkgen: error: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("sdkgen", flag.ContinueOnError)
	schemaPath := fs.String("schema", "", "the Pulumi package schema (JSON) to generate SDKs for (required)")
	out := fs.String("out", "", "output directory: each language is written to OUT/<lang> (required)")
	langs := fs.String("lang", "python,go,nodejs", "comma-separated languages: python, go, nodejs")
	version := fs.String("version", "", "override the package version of the schema")
	local := fs.Bool("local", false, "Node.js: generate an SDK for local use (as gen-sdk --local)")
	var refs stringList
	fs.Var(&refs, "ref", "schema (JSON) of a package the main schema references; repeatable")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: sdkgen --schema schema.json --out DIR [--lang python,go,nodejs] [--version X.Y.Z] [--local] [--ref other.json]...\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *schemaPath == "" || *out == "" {
		fs.Usage()
		return errors.New("--schema and --out are required")
	}

	var languages []string
	for _, l := range strings.Split(*langs, ",") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if _, ok := tools[l]; !ok {
			return fmt.Errorf("unknown language %q (want python, go or nodejs)", l)
		}
		languages = append(languages, l)
	}
	if len(languages) == 0 {
		return errors.New("--lang names no language")
	}

	spec, err := readSpec(*schemaPath)
	if err != nil {
		return err
	}
	if *version != "" {
		v, err := semver.ParseTolerant(*version)
		if err != nil {
			return fmt.Errorf("invalid --version %q: %w", *version, err)
		}
		spec.Version = v.String()
	}
	loader := &staticLoader{specs: map[string]schema.PackageSpec{}, pkgs: map[string]*schema.Package{}}
	for _, r := range refs {
		rs, err := readSpec(r)
		if err != nil {
			return err
		}
		loader.specs[rs.Name] = rs
	}

	for _, lang := range languages {
		// A fresh bind per language: the generators record language info on the package they are given.
		pkg, err := bind(spec, loader)
		if err != nil {
			return fmt.Errorf("%s: %w", *schemaPath, err)
		}
		files, err := generate(lang, pkg, loader, *local)
		if err != nil {
			return fmt.Errorf("generating the %s SDK: %w", lang, err)
		}
		dir := filepath.Join(*out, lang)
		if err := writeFiles(dir, files); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "sdkgen: %s SDK for %s: %d files in %s\n", lang, pkg.Name, len(files), dir)
	}
	return nil
}

func readSpec(path string) (schema.PackageSpec, error) {
	var spec schema.PackageSpec
	data, err := os.ReadFile(path)
	if err != nil {
		return spec, err
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		return spec, fmt.Errorf("%s: not a JSON package schema: %w", path, err)
	}
	if spec.Name == "" {
		return spec, fmt.Errorf("%s: the schema has no package name", path)
	}
	return spec, nil
}

// bind validates and binds the spec as `pulumi package gen-sdk` does (packages.BindSpec): errors fail,
// warnings are printed.
func bind(spec schema.PackageSpec, loader schema.Loader) (*schema.Package, error) {
	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		return nil, err
	}
	printDiags(diags)
	if diags.HasErrors() {
		return nil, fmt.Errorf("the schema has errors (%d diagnostics above)", len(diags))
	}
	return pkg, nil
}

func printDiags(diags hcl.Diagnostics) {
	for _, d := range diags {
		sev := "warning"
		if d.Severity == hcl.DiagError {
			sev = "error"
		}
		where := ""
		if d.Subject != nil {
			where = d.Subject.String() + ": "
		}
		msg := d.Summary
		if d.Detail != "" && d.Detail != d.Summary {
			msg += ": " + d.Detail
		}
		fmt.Fprintf(os.Stderr, "sdkgen: %s: %s%s\n", sev, where, msg)
	}
}

// generate calls the generator as the language host does in its GeneratePackage (no extra files, no local
// dependencies).
func generate(lang string, pkg *schema.Package, loader schema.ReferenceLoader, local bool) (map[string][]byte, error) {
	switch lang {
	case "python":
		return python.GeneratePackage(tools[lang], pkg, nil, loader)
	case "go":
		return gogen.GeneratePackage(tools[lang], pkg, nil)
	case "nodejs":
		return nodejs.GeneratePackage(tools[lang], pkg, nil, nil, local, loader)
	}
	return nil, fmt.Errorf("unknown language %q", lang)
}

func writeFiles(dir string, files map[string][]byte) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// staticLoader resolves referenced packages from the --ref schemas only; it never starts a plugin.
type staticLoader struct {
	specs map[string]schema.PackageSpec
	pkgs  map[string]*schema.Package
}

var _ schema.ReferenceLoader = (*staticLoader)(nil)

func (l *staticLoader) LoadPackage(name string, version *semver.Version) (*schema.Package, error) {
	return l.LoadPackageV2(context.Background(), &schema.PackageDescriptor{Name: name, Version: version})
}

func (l *staticLoader) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	name := d.PackageName()
	if pkg, ok := l.pkgs[name]; ok {
		return pkg, nil
	}
	spec, ok := l.specs[name]
	if !ok {
		return nil, fmt.Errorf("the schema references package %s, which sdkgen cannot load: pass its schema with --ref", d.String())
	}
	pkg, err := schema.ImportSpec(spec, nil, l, schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		return nil, fmt.Errorf("binding the --ref schema of %s: %w", name, err)
	}
	l.pkgs[name] = pkg
	return pkg, nil
}

func (l *staticLoader) LoadPackageReference(name string, version *semver.Version) (schema.PackageReference, error) {
	return l.LoadPackageReferenceV2(context.Background(), &schema.PackageDescriptor{Name: name, Version: version})
}

func (l *staticLoader) LoadPackageReferenceV2(
	ctx context.Context, d *schema.PackageDescriptor,
) (schema.PackageReference, error) {
	pkg, err := l.LoadPackageV2(ctx, d)
	if err != nil {
		return nil, err
	}
	return pkg.Reference(), nil
}
