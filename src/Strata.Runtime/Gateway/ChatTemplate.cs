using System.Text;

namespace Strata.Runtime.Gateway;

/// <summary>Renders chat messages as one prompt: <c>&lt;|role|&gt;\ncontent\n</c> per message, then <c>&lt;|assistant|&gt;\n</c>.</summary>
/// <remarks>A plain, model-agnostic template (a model's own chat template is not read yet); the same messages always give the same text.</remarks>
internal static class ChatTemplate
{
    /// <summary>The roles a message may have.</summary>
    public static readonly IReadOnlySet<string> Roles = new HashSet<string>(StringComparer.Ordinal) { "system", "developer", "user", "assistant" };

    /// <summary>The prompt for <paramref name="messages"/> (role, content) pairs, ending with the assistant's turn.</summary>
    public static string Render(IEnumerable<(string Role, string Content)> messages)
    {
        var text = new StringBuilder();
        foreach (var (role, content) in messages)
        {
            text.Append("<|").Append(role).Append("|>\n").Append(content).Append('\n');
        }

        return text.Append("<|assistant|>\n").ToString();
    }
}
