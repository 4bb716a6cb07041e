"""Domain logic of Taizhang. Never imports Streamlit; every function that reads or
writes records takes the acting user and checks the permission itself."""
