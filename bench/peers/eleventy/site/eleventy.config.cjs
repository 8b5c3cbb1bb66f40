// The peers benchmark's Eleventy set-up: Markdown posts are not run through a template
// language first, and nothing but the posts and the index is built.
module.exports = function (eleventyConfig) {
  return {
    dir: { input: ".", includes: "_includes", output: "_site" },
    markdownTemplateEngine: false,
    templateFormats: ["md", "njk"],
  };
};
