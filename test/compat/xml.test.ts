import { describe, expect, it } from 'vitest';
import { escapeXmlAttr, escapeXmlText } from '../../src/compat/xml';

describe("ElementTree's escaping", () => {
  it('text: & < >', () => {
    expect(escapeXmlText('a<&>"\'\n')).toBe('a&lt;&amp;&gt;"\'\n');
  });
  it('attributes: also " and the whitespace controls', () => {
    expect(escapeXmlAttr('a<&>"\'\n\r\t')).toBe("a&lt;&amp;&gt;&quot;'&#10;&#13;&#09;");
  });
});
