using System.Globalization;
using Strata.Runtime.Engine;
using Strata.Runtime.Sampling;
using Strata.Runtime.Weights;
using Strata.Runtime.Weights.Gguf;
using Xunit.Abstractions;

namespace Strata.Runtime.Tests.Accuracy;

/// <summary>
/// How far Q8_0 and Q4_0 weights move a model from its fp32 self: the figures of docs/runtime.md ("Quantized
/// weights"). The repository holds no trained model, so the model is the <c>small</c> preset with random weights
/// (seed 1), and the held-out text is a continuation the fp32 model samples itself (temperature 1, seed 7) after a
/// fixed prompt: every model then reads that same sequence in one prefill, and every position's logits are compared.
/// </summary>
/// <remarks>
/// With random weights perplexity says little about language; what it does measure is how much probability each
/// quantized model still gives to the tokens fp32 chose, which is the change a trained model would see too.
/// </remarks>
[Trait("Category", "Accuracy")]
public sealed class QuantizationAccuracyTests(ITestOutputHelper output)
{
    private const int PromptTokens = 16;
    private const int SequenceTokens = 160;

    [Fact]
    public void Q8_0_and_Q4_0_stay_close_to_fp32_on_a_sampled_continuation_of_the_small_preset()
    {
        var config = ModelPreset.Small.ToConfig();
        var tensors = RandomModelWriter.Generate(config, 1).ToDictionary(t => t.Name, t => t.Data);
        LlamaModel Load(GgmlType type)
        {
            var directory = TestModels.NewDirectory();
            GgufModelWriter.Write(config, name => tensors[name], Path.Combine(directory, GgufModelWriter.FileName), type);
            return ModelFolder.LoadModel(directory);
        }

        var fp32 = Load(GgmlType.F32);
        var sequence = SampleContinuation(fp32);
        var reference = TeacherForcedLogits(fp32, sequence);
        var referencePerplexity = Perplexity(reference, sequence, config.VocabularySize);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"small preset, random weights (seed 1); {SequenceTokens - PromptTokens} scored positions of an fp32-sampled continuation; fp32 perplexity {referencePerplexity:F4}"));

        var figures = new Dictionary<GgmlType, Figures>();
        foreach (var type in new[] { GgmlType.Q8_0, GgmlType.Q4_0 })
        {
            var logits = TeacherForcedLogits(Load(type), sequence);
            var f = Compare(reference, logits, sequence, config.VocabularySize);
            figures[type] = f;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{type}: max |logit error| {f.MaxAbsoluteError:F4} ({f.MaxRelativeError:E2} of the largest |logit|), mean |error| {f.MeanAbsoluteError:F4}, logit std {f.LogitStandardDeviation:F3}; mean KL(fp32 || {type}) {f.MeanKl:E3} nats, max {f.MaxKl:E3}; top-1 agreement {f.TopOneAgreement:P1}; perplexity {f.Perplexity:F4} ({(f.Perplexity / referencePerplexity) - 1:+0.00%;-0.00%} vs fp32)"));
        }

        // Bounds a little above what was measured (docs/runtime.md), ordered as the formats' steps are: Q4_0's step is
        // 16x Q8_0's, so its errors are an order of magnitude larger. A broken kernel or scale moves these by far more.
        var q8 = figures[GgmlType.Q8_0];
        var q4 = figures[GgmlType.Q4_0];
        Assert.True(q8.MaxRelativeError < q4.MaxRelativeError, $"Q8_0's largest logit error ({q8.MaxRelativeError:E2}) should be below Q4_0's ({q4.MaxRelativeError:E2}).");
        Assert.True(q8.MeanKl < q4.MeanKl, $"Q8_0's mean KL ({q8.MeanKl:E2}) should be below Q4_0's ({q4.MeanKl:E2}).");
        Assert.True(q8.TopOneAgreement >= 0.95, $"Q8_0 agrees with fp32's top token at {q8.TopOneAgreement:P1} of positions; expected at least 95%.");
        Assert.True(q4.TopOneAgreement >= 0.75, $"Q4_0 agrees with fp32's top token at {q4.TopOneAgreement:P1} of positions; expected at least 75%.");
        Assert.True(Math.Abs((q8.Perplexity / referencePerplexity) - 1) < 0.02, $"Q8_0 perplexity {q8.Perplexity} is more than 2% from fp32's {referencePerplexity}.");
    }

    private sealed record Figures(
        double MaxAbsoluteError, double MaxRelativeError, double MeanAbsoluteError, double LogitStandardDeviation,
        double MeanKl, double MaxKl, double TopOneAgreement, double Perplexity);

    // The prompt, then tokens sampled from fp32's own softmax at temperature 1.
    private static int[] SampleContinuation(LlamaModel model)
    {
        var vocabulary = model.Config.VocabularySize;
        var random = new DeterministicRandom(7);
        var tokens = Enumerable.Range(0, PromptTokens).Select(i => (int)((1L + (i * 7919L)) % vocabulary)).ToList();
        var session = model.CreateSession();
        var hidden = model.Embed([.. tokens]);
        model.ForwardBlocks(session, 0, model.Config.LayerCount, hidden, tokens.Count);
        var logits = model.ComputeLastLogits(hidden, tokens.Count);
        var probabilities = new double[vocabulary];
        while (tokens.Count < SequenceTokens)
        {
            Softmax(logits, probabilities);
            var u = random.NextDouble();
            var next = vocabulary - 1;
            for (var i = 0; i < vocabulary; i++)
            {
                u -= probabilities[i];
                if (u < 0)
                {
                    next = i;
                    break;
                }
            }

            tokens.Add(next);
            hidden = model.Embed([next]);
            model.ForwardBlocks(session, 0, model.Config.LayerCount, hidden, 1);
            logits = model.ComputeLastLogits(hidden, 1);
        }

        return [.. tokens];
    }

    // Logits of every position, (tokens, vocab), from one prefill of the whole sequence.
    private static float[] TeacherForcedLogits(LlamaModel model, int[] tokens)
    {
        var hidden = model.Embed(tokens);
        model.ForwardBlocks(model.CreateSession(), 0, model.Config.LayerCount, hidden, tokens.Length);
        var logits = new float[tokens.Length * model.Config.VocabularySize];
        model.ComputeLogits(hidden, logits, tokens.Length);
        return logits;
    }

    // Positions scored: those predicting tokens PromptTokens .. end (the sampled continuation).
    private static IEnumerable<int> Scored() => Enumerable.Range(PromptTokens - 1, SequenceTokens - PromptTokens);

    private static double Perplexity(float[] logits, int[] tokens, int vocabulary)
    {
        var probabilities = new double[vocabulary];
        var nll = 0.0;
        foreach (var p in Scored())
        {
            Softmax(logits.AsSpan(p * vocabulary, vocabulary), probabilities);
            nll -= Math.Log(probabilities[tokens[p + 1]]);
        }

        return Math.Exp(nll / (SequenceTokens - PromptTokens));
    }

    private static Figures Compare(float[] reference, float[] logits, int[] tokens, int vocabulary)
    {
        var p = new double[vocabulary];
        var q = new double[vocabulary];
        double maxAbs = 0, maxLogit = 0, sumAbs = 0, sum = 0, sumSquares = 0, sumKl = 0, maxKl = 0;
        var agree = 0;
        var count = 0;
        foreach (var position in Scored())
        {
            var r = reference.AsSpan(position * vocabulary, vocabulary);
            var l = logits.AsSpan(position * vocabulary, vocabulary);
            for (var i = 0; i < vocabulary; i++)
            {
                var error = Math.Abs((double)r[i] - l[i]);
                maxAbs = Math.Max(maxAbs, error);
                maxLogit = Math.Max(maxLogit, Math.Abs(r[i]));
                sumAbs += error;
                sum += r[i];
                sumSquares += (double)r[i] * r[i];
            }

            Softmax(r, p);
            Softmax(l, q);
            var kl = 0.0;
            for (var i = 0; i < vocabulary; i++)
            {
                if (p[i] > 0)
                {
                    kl += p[i] * (Math.Log(p[i]) - Math.Log(Math.Max(q[i], double.Epsilon)));
                }
            }

            sumKl += kl;
            maxKl = Math.Max(maxKl, kl);
            agree += TokenSampler.ArgMax(r) == TokenSampler.ArgMax(l) ? 1 : 0;
            count++;
        }

        var n = (double)count * vocabulary;
        var mean = sum / n;
        return new Figures(maxAbs, maxAbs / maxLogit, sumAbs / n, Math.Sqrt((sumSquares / n) - (mean * mean)),
            sumKl / count, maxKl, (double)agree / count, Perplexity(logits, tokens, vocabulary));
    }

    private static void Softmax(ReadOnlySpan<float> logits, double[] probabilities)
    {
        var max = double.NegativeInfinity;
        foreach (var v in logits)
        {
            max = Math.Max(max, v);
        }

        var total = 0.0;
        for (var i = 0; i < logits.Length; i++)
        {
            probabilities[i] = Math.Exp(logits[i] - max);
            total += probabilities[i];
        }

        for (var i = 0; i < logits.Length; i++)
        {
            probabilities[i] /= total;
        }
    }
}
