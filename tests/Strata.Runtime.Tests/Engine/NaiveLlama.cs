using Strata.Runtime.Engine;
using Strata.Runtime.Kernels;

namespace Strata.Runtime.Tests.Engine;

/// <summary>The Llama forward pass written as plainly as possible, in double, with no cache: the oracle for the engine.</summary>
internal static class NaiveLlama
{
    /// <summary>Logits of every position of <paramref name="tokens"/>, <c>(tokens, vocab)</c>.</summary>
    public static double[][] Logits(LlamaModel model, int[] tokens)
    {
        var c = model.Config;
        var w = model.Weights;
        int n = tokens.Length, h = c.HiddenSize, d = c.HeadDimension, heads = c.HeadCount, kvHeads = c.KeyValueHeadCount;
        var x = new double[n][];
        var row = new float[h];
        for (var t = 0; t < n; t++)
        {
            w.CopyEmbedding(tokens[t], row);
            x[t] = [.. row.Select(value => (double)value)];
        }

        for (var layer = 0; layer < c.LayerCount; layer++)
        {
            var b = w.Block(layer);
            var normed = x.Select(row => Norm(row, b.InputNorm, c.RmsNormEpsilon)).ToArray();
            var q = normed.Select(row => Linear(row, b.QueryProjection, h)).ToArray();
            var k = normed.Select(row => Linear(row, b.KeyProjection, c.KeyValueDimension)).ToArray();
            var v = normed.Select(row => Linear(row, b.ValueProjection, c.KeyValueDimension)).ToArray();
            for (var t = 0; t < n; t++)
            {
                Rope(q[t], heads, d, t, c.RopeTheta);
                Rope(k[t], kvHeads, d, t, c.RopeTheta);
            }

            for (var t = 0; t < n; t++)
            {
                var attended = new double[h];
                for (var head = 0; head < heads; head++)
                {
                    var g = head / (heads / kvHeads);
                    var scores = new double[t + 1];
                    for (var j = 0; j <= t; j++)
                    {
                        for (var i = 0; i < d; i++)
                        {
                            scores[j] += q[t][head * d + i] * k[j][g * d + i];
                        }

                        scores[j] /= Math.Sqrt(d);
                    }

                    var max = scores.Max();
                    var e = scores.Select(s => Math.Exp(s - max)).ToArray();
                    var total = e.Sum();
                    for (var j = 0; j <= t; j++)
                    {
                        for (var i = 0; i < d; i++)
                        {
                            attended[head * d + i] += e[j] / total * v[j][g * d + i];
                        }
                    }
                }

                var o = Linear(attended, b.OutputProjection, h);
                for (var i = 0; i < h; i++)
                {
                    x[t][i] += o[i];
                }
            }

            for (var t = 0; t < n; t++)
            {
                var m = Norm(x[t], b.PostAttentionNorm, c.RmsNormEpsilon);
                var gate = Linear(m, b.GateProjection, c.IntermediateSize);
                var up = Linear(m, b.UpProjection, c.IntermediateSize);
                var act = gate.Select((g, i) => g / (1 + Math.Exp(-g)) * up[i]).ToArray();
                var down = Linear(act, b.DownProjection, h);
                for (var i = 0; i < h; i++)
                {
                    x[t][i] += down[i];
                }
            }
        }

        return x.Select(row => Linear(Norm(row, w.FinalNorm!, c.RmsNormEpsilon), w.LmHead!, c.VocabularySize)).ToArray();
    }

    private static double[] Norm(double[] x, float[] weight, double epsilon)
    {
        var rms = Math.Sqrt(x.Sum(v => v * v) / x.Length + epsilon);
        return x.Select((v, i) => v / rms * weight[i]).ToArray();
    }

    // weight is (outputs, inputs), as Hugging Face stores it; read back element by element from its packed form.
    private static double[] Linear(double[] x, LinearWeight weight, int outputs)
    {
        var y = new double[outputs];
        for (var o = 0; o < outputs; o++)
        {
            for (var i = 0; i < x.Length; i++)
            {
                y[o] += x[i] * weight[o, i];
            }
        }

        return y;
    }

    private static void Rope(double[] row, int heads, int d, int position, double theta)
    {
        for (var head = 0; head < heads; head++)
        {
            for (var i = 0; i < d / 2; i++)
            {
                var angle = position * Math.Pow(theta, -2.0 * i / d);
                var a = row[head * d + i];
                var b = row[head * d + i + d / 2];
                row[head * d + i] = a * Math.Cos(angle) - b * Math.Sin(angle);
                row[head * d + i + d / 2] = b * Math.Cos(angle) + a * Math.Sin(angle);
            }
        }
    }
}
