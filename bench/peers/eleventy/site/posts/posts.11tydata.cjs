// Directory data for the posts. The permalink is a function: with markdownTemplateEngine
// off, a "{{ page.fileSlug }}" string would not be rendered for Markdown files.
module.exports = {
  layout: "post.njk",
  tags: ["posts"],
  permalink: (data) => `/posts/${data.page.fileSlug}/`,
};
