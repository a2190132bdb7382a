/** The subject and text of each template the handlers queue. Unknown templates still send. */
export function renderEmail(template: string, data: Record<string, unknown>): { subject: string; text: string } {
  const field = (name: string) => {
    const value = data[name];
    if (value === undefined || value === null) return "";
    return typeof value === "string" ? value : JSON.stringify(value);
  };
  switch (template) {
    case "order_confirmation":
      return { subject: `Order ${field("orderNumber")} confirmed`, text: `Thank you. Your order ${field("orderNumber")} totals ${money(data)}.` };
    case "order_rejected":
      return { subject: `Order ${field("orderNumber")} could not be filled`, text: `We could not fill order ${field("orderNumber")}: ${field("reason")}.` };
    case "order_cancelled":
      return { subject: `Order ${field("orderNumber")} cancelled`, text: `Order ${field("orderNumber")} was cancelled: ${field("reason")}.` };
    case "welcome":
      return { subject: "Welcome", text: `Your ${field("role")} account is ready.` };
    case "tenant_onboarding":
      return { subject: `New tenant ${field("name")}`, text: `Tenant ${field("name")} (${field("slug")}) signed up; please reach out to onboard them.` };
    default:
      return { subject: template, text: JSON.stringify(data) };
  }
}

function money(data: Record<string, unknown>): string {
  const amount = typeof data.totalAmount === "number" ? (data.totalAmount / 100).toFixed(2) : "?";
  return `${amount} ${typeof data.currency === "string" ? data.currency : ""}`.trim();
}
