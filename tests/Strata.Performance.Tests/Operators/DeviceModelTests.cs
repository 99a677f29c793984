using Strata.Core;
using Strata.Performance.Calibration;
using Strata.Performance.Operators;
using Strata.Performance.Profiles;

namespace Strata.Performance.Tests.Operators;

public sealed class DeviceModelTests
{
    private static readonly DeviceRates A100 = new(312e12, 2039e9);

    [Fact]
    public void Gemm_time_is_the_roofline_plus_launch_when_efficiencies_are_ideal_and_the_blend_is_sharp()
    {
        // Closed form: with e = 1, no shape loss and a very sharp blend, time = launch + max(2MNK / peak, bytes / bandwidth).
        var p = new DeviceParameters(1, 0, 0, 0, 1, 5e-6, 200, 1, 0);
        var computeBound = OperatorCosts.GemmSeconds(p, A100, 4096, 8192, 8192);
        Assert.Equal(5e-6 + 2.0 * 4096 * 8192 * 8192 / 312e12, computeBound, 1e-6);
        var memoryBound = OperatorCosts.GemmSeconds(p, A100, 1, 8192, 8192);
        Assert.Equal(5e-6 + 2.0 * (8192 + 8192.0 * 8192 + 8192) / 2039e9, memoryBound, 1e-7);
    }

    [Fact]
    public void Fit_recovers_known_parameters_from_rows_they_generated()
    {
        // Oracle: operator times generated from known parameters must be fitted back to (almost) zero error.
        var truth = new DeviceParameters(0.7, 40, 120, 60, 0.85, 6e-6, 2.5, 0.5, 4e-6);
        var shapes = new[] { new LayerShape(32, 8, 4096, 14336, 128256, true), new LayerShape(64, 8, 8192, 28672, 32000, true), new LayerShape(32, 32, 2560, 10240, 51200, false) };
        var rows = new List<OperatorProfileRow>();
        foreach (var shape in shapes)
        {
            foreach (var tp in new[] { 1, 2, 4 })
            {
                foreach (var tokens in new[] { 1, 8, 32, 128, 512, 1024, 4096 })
                {
                    var seconds = Enum.GetValues<LayerOperator>().Select(op => OperatorCosts.Seconds(truth, A100, op, shape, tokens, tp)).ToArray();
                    rows.Add(new OperatorProfileRow("a100", $"m{shape.HiddenSize}", shape, tokens, tp, seconds, 0));
                }
            }
        }

        var fit = DeviceFitter.Fit(rows, A100);

        Assert.True(fit.RmsLogError < 0.01, $"rms log error {fit.RmsLogError}");
        foreach (var row in rows)
        {
            Assert.Equal(row.LayerSeconds, OperatorCosts.LayerSeconds(fit.Parameters, A100, row.Shape, row.Tokens, row.TensorParallel), row.LayerSeconds * 0.02);
        }
    }

    [Fact]
    public void Step_time_grows_with_tokens_and_context_and_all_reduce_is_measured_on_a_dgx()
    {
        var deployment = TestDeployments.Catalog("llama-2-70b", "a100-80gb", 8);
        var (model, source) = DeviceModels.For(deployment);
        Assert.True(model.MeasuredAllReduce, source);
        Assert.True(model.StepSeconds(BatchShape.Prefill(1, 2048)) > model.StepSeconds(BatchShape.Prefill(1, 512)));
        Assert.True(model.StepSeconds(BatchShape.Decode(8, 4096)) > model.StepSeconds(BatchShape.Decode(8, 128)));
        Assert.Equal(0, model.StepSeconds(default));
    }

    [Fact]
    public void Operator_profile_rows_with_bad_values_name_file_line_column_and_value()
    {
        const string header = "gpu,model,n_head,n_kv_head,n_embd,n_expanded_embd,vocab_size,use_gated_mlp,num_tokens,tensor_parallel,emb_ms,input_layernorm_ms,attn_pre_proj_ms,attn_rope_ms,attn_post_proj_ms,post_attention_layernorm_ms,mlp_up_proj_ms,mlp_act_ms,mlp_down_proj_ms,add_ms";
        var ok = OperatorProfileTable.Parse($"{header}\na100,m,32,8,4096,14336,128256,True,16,2,0.01,0.01,0.1,0.01,0.05,,0.2,0.02,0.1,0.01\n", "t.csv");
        Assert.False(ok.Rows[0].Has(LayerOperator.PostAttentionNorm));
        Assert.Equal(0.0001, ok.Rows[0].Seconds(LayerOperator.QkvProjection), 12);

        var badTime = Assert.Throws<StrataException>(() => OperatorProfileTable.Parse($"{header}\na100,m,32,8,4096,14336,128256,True,16,2,0.01,0.01,-1,0.01,0.05,0.01,0.2,0.02,0.1,0.01\n", "t.csv"));
        Assert.Contains("t.csv: line 2 column 'attn_pre_proj_ms' is '-1'", badTime.Message);
        var badTp = Assert.Throws<StrataException>(() => OperatorProfileTable.Parse($"{header}\na100,m,32,8,4096,14336,128256,True,16,3,0.01,0.01,0.1,0.01,0.05,0.01,0.2,0.02,0.1,0.01\n", "t.csv"));
        Assert.Contains("column 'tensor_parallel' is '3'", badTp.Message);
        var badFlag = Assert.Throws<StrataException>(() => OperatorProfileTable.Parse($"{header}\na100,m,32,8,4096,14336,128256,yes,16,2,0.01,0.01,0.1,0.01,0.05,0.01,0.2,0.02,0.1,0.01\n", "t.csv"));
        Assert.Contains("column 'use_gated_mlp' is 'yes'", badFlag.Message);
        var missing = Assert.Throws<StrataException>(() => OperatorProfileTable.Parse("gpu,model\na100,m\n", "t.csv"));
        Assert.Contains("has no 'n_head' column", missing.Message);
    }

    [Fact]
    public void Built_in_profiles_hold_seven_models_on_a100_and_five_on_h100()
    {
        Assert.Equal(7, OperatorProfileTable.BuiltIn.ModelsOn("a100").Count);
        Assert.Equal(5, OperatorProfileTable.BuiltIn.ModelsOn("h100").Count);
    }

    [Fact]
    public void All_reduce_interpolates_between_measured_sizes_and_grows_with_size()
    {
        var table = CollectiveProfileTable.Parse("cluster,collective,num_workers,devices_per_node,size_bytes,median_ms\nc,all_reduce,2,2,1000,0.01\nc,all_reduce,2,2,100000,0.1\n", "n.csv");
        Assert.Equal(0.01e-3, table.AllReduceSeconds("c", 2, 10)!.Value, 12);
        Assert.Equal(Math.Sqrt(0.01e-3 * 0.1e-3), table.AllReduceSeconds("c", 2, 10000)!.Value, 9);
        Assert.Equal(0.2e-3, table.AllReduceSeconds("c", 2, 200000)!.Value, 12);
        Assert.Null(table.AllReduceSeconds("c", 4, 1000));
        Assert.Throws<StrataException>(() => CollectiveProfileTable.Parse("cluster,collective,num_workers,devices_per_node,size_bytes,median_ms\nc,broadcast,2,2,1,1\n", "n.csv"));
    }
}
