// Command goprogram runs OffsetReset from Go: an inline Automation API program that uses the generated Go SDK
// (sdk/go/dmsoffsetreset), its project naming the plugin's directory in `plugins: providers`. go.test.ts
// builds it and runs one step per process, checking dms-local in between.
//
//	goprogram up|destroy
//
// Settings from the environment: DMS_PLUGIN_DIR, DMS_ENDPOINT, DMS_PROJECT_ID, DMS_INSTANCE_ID, DMS_AK, DMS_SK,
// DMS_TIMESTAMP, DMS_WORK_DIR, and the backend's (PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE, PULUMI_HOME).
// Prints one JSON object on its last stdout line.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	dms "github.com/pulumi-dms-offset-reset/pulumi-dms-offset-reset/sdk/go/dmsoffsetreset"
)

func program(ctx *pulumi.Context) error {
	rewind, err := dms.NewOffsetReset(ctx, "rewind", &dms.OffsetResetArgs{
		ProjectId:  pulumi.String(os.Getenv("DMS_PROJECT_ID")),
		InstanceId: pulumi.String(os.Getenv("DMS_INSTANCE_ID")),
		Group:      pulumi.String("billing"),
		Topic:      pulumi.String("payments"),
		// A union of epoch milliseconds and ISO-8601 text: either input type goes.
		Timestamp: pulumi.String(os.Getenv("DMS_TIMESTAMP")),
	})
	if err != nil {
		return err
	}
	ctx.Export("previousOffsets", rewind.PreviousOffsets)
	ctx.Export("requestId", rewind.RequestId)
	return nil
}

func run(step string) (map[string]any, error) {
	ctx := context.Background()
	project := workspace.Project{
		Name:    "offset-reset-go",
		Runtime: workspace.NewProjectRuntimeInfo("go", nil),
		Plugins: &workspace.Plugins{Providers: []workspace.PluginOptions{{Name: "dms-offset-reset", Path: os.Getenv("DMS_PLUGIN_DIR")}}},
	}
	stack, err := auto.UpsertStackInlineSource(ctx, "dev", "offset-reset-go", program, auto.Project(project), auto.WorkDir(os.Getenv("DMS_WORK_DIR")))
	if err != nil {
		return nil, err
	}
	var printed strings.Builder
	switch step {
	case "up":
		for key, value := range map[string]auto.ConfigValue{
			"dms-offset-reset:accessKey": {Value: os.Getenv("DMS_AK"), Secret: true},
			"dms-offset-reset:secretKey": {Value: os.Getenv("DMS_SK"), Secret: true},
			"dms-offset-reset:endpoint":  {Value: os.Getenv("DMS_ENDPOINT")},
		} {
			if err := stack.SetConfig(ctx, key, value); err != nil {
				return nil, err
			}
		}
		res, err := stack.Up(ctx, optup.ProgressStreams(&printed))
		if err != nil {
			return nil, fmt.Errorf("%w\n%s", err, printed.String())
		}
		outputs := map[string]any{}
		for k, v := range res.Outputs {
			outputs[k] = v.Value
		}
		return map[string]any{"summary": res.Summary.ResourceChanges, "outputs": outputs, "printed": printed.String()}, nil
	case "destroy":
		res, err := stack.Destroy(ctx, optdestroy.ProgressStreams(&printed))
		if err != nil {
			return nil, fmt.Errorf("%w\n%s", err, printed.String())
		}
		return map[string]any{"summary": res.Summary.ResourceChanges, "printed": printed.String()}, nil
	}
	return nil, fmt.Errorf("unknown step %q", step)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: goprogram up|destroy")
		os.Exit(2)
	}
	result, err := run(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := json.Marshal(result)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}
