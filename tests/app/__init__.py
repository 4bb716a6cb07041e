"""AppTest runs of every page (streamlit.testing.v1), as each role sees it."""
